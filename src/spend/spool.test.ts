import { expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spendRow } from '../../test/spend-rows'
import { adoptOrphans, decodeEntry, encodeEntry, SpoolFile, thisHost, type Adoption } from './spool'

const folder = () => mkdtempSync(join(tmpdir(), 'tollgate-spool-test-'))
const entry = (i: number, metadata: Record<string, unknown> = {}) => ({ recordedAt: 1_000 + i, row: spendRow({ requestId: `r-${i}`, spend: i / 8, metadata }) })

test('an entry survives the round trip through a line, dates included', () => {
  const original = entry(3)
  const decoded = decodeEntry(encodeEntry(original).trimEnd())!
  expect(decoded).toEqual(original)
  expect(decoded.row.startTime).toBeInstanceOf(Date)
  for (const line of ['', '{"v":1', '{"v":2,"t":1,"row":{}}', '{"v":1,"t":1,"row":{"requestId":"x","spend":1,"startTime":"nope","endTime":"nope"}}']) {
    expect(decodeEntry(line)).toBeNull()
  }
})

test('batches come from the head in order; committing everything truncates the file', () => {
  const spool = SpoolFile.create(folder(), 'a')
  for (let i = 0; i < 5; i++) spool.append(entry(i))
  const first = spool.readBatch(2)
  expect(first.entries.map((e) => e.row.requestId)).toEqual(['r-0', 'r-1'])
  // Reading again without a commit returns the same rows (a failed batch is retried as it was).
  expect(spool.readBatch(2).entries.map((e) => e.row.requestId)).toEqual(['r-0', 'r-1'])
  spool.commit(first.bytes)
  spool.append(entry(5))
  expect(spool.readBatch(10).entries.map((e) => e.row.requestId)).toEqual(['r-2', 'r-3', 'r-4', 'r-5'])
  spool.commit(spool.readBatch(10).bytes)
  expect(statSync(spool.path).size).toBe(0)
  expect(spool.readBatch(10).bytes).toBe(0)
  spool.append(entry(6))
  expect(spool.readBatch(10).entries[0].row.requestId).toBe('r-6')
  spool.close(false)
})

test('a long backlog is compacted: once the settled prefix is large, only the unsettled tail is kept', () => {
  const spool = SpoolFile.create(folder(), 'big')
  const padding = { note: 'x'.repeat(2_000) }
  for (let i = 0; i < 10_000; i++) spool.append(entry(i, padding))
  const total = statSync(spool.path).size
  let settled = 0
  while (settled < 6_000) {
    const batch = spool.readBatch(500)
    spool.commit(batch.bytes)
    settled += batch.entries.length
  }
  expect(statSync(spool.path).size).toBeLessThan(total / 2)
  expect(spool.readBatch(1).entries[0].row.requestId).toBe('r-6000')
  spool.append(entry(10_000))
  let rest: string[] = []
  for (let batch = spool.readBatch(500); batch.bytes > 0; batch = spool.readBatch(500)) {
    rest = rest.concat(batch.entries.map((e) => e.row.requestId))
    spool.commit(batch.bytes)
  }
  expect(rest).toHaveLength(4_001)
  expect(rest.at(-1)).toBe('r-10000')
  spool.close(true)
  expect(existsSync(spool.path)).toBe(false)
})

test('an unreadable line comes back alone, so it can be set aside without holding up the rest', () => {
  const dir = folder()
  writeFileSync(join(dir, 'torn.jsonl'), [encodeEntry(entry(1)), '{"v":1,"t":5,"row":{"requ\n', encodeEntry(entry(2))].join(''))
  const spool = SpoolFile.create(dir, 'torn')
  const first = spool.readBatch(10)
  expect(first.entries.map((e) => e.row.requestId)).toEqual(['r-1'])
  spool.commit(first.bytes)
  const torn = spool.readBatch(10)
  expect(torn.entries).toEqual([])
  expect(torn.invalid).toBe('{"v":1,"t":5,"row":{"requ')
  spool.reject(torn.invalid!)
  spool.commit(torn.bytes)
  expect(spool.readBatch(10).entries.map((e) => e.row.requestId)).toEqual(['r-2'])
  expect(readFileSync(spool.rejectedPath, 'utf8')).toBe('{"v":1,"t":5,"row":{"requ\n')
  spool.close(false)
})

test('orphans are adopted only when their owner is gone: dead pid, stale heartbeat; live owners are left alone', async () => {
  const dir = folder()
  const write = (instance: string, lock: object | null, lines: string[]) => {
    writeFileSync(join(dir, `${instance}.jsonl`), lines.map((line) => `${line}\n`).join(''))
    if (lock) writeFileSync(join(dir, `${instance}.lock`), JSON.stringify(lock))
  }
  const exited = Bun.spawn(['true'])
  await exited.exited
  write('dead', { pid: exited.pid, hostname: thisHost() }, [encodeEntry(entry(1)).trimEnd(), '{"torn', encodeEntry(entry(2)).trimEnd()])
  write('live', { pid: process.ppid, hostname: thisHost() }, [encodeEntry(entry(3)).trimEnd()])
  write('elsewhere', { pid: 1, hostname: 'another-host' }, [encodeEntry(entry(4)).trimEnd()])
  write('silent', { pid: 1, hostname: 'another-host' }, [encodeEntry(entry(5)).trimEnd()])
  const old = new Date(Date.now() - 120_000)
  utimesSync(join(dir, 'silent.lock'), old, old)
  write('lockless', null, [encodeEntry(entry(6)).trimEnd()])

  const adoptions: Adoption[] = []
  expect(adoptOrphans(dir, 'me', (adoption) => adoptions.push(adoption))).toBe(4)
  expect(adoptions.map((a) => [a.instance, a.entries.map((e) => e.row.requestId), a.invalid.length])).toEqual([
    ['dead', ['r-1', 'r-2'], 1],
    ['lockless', ['r-6'], 0],
    ['silent', ['r-5'], 0],
  ])
  expect(readdirSync(dir).sort()).toEqual(['elsewhere.jsonl', 'elsewhere.lock', 'live.jsonl', 'live.lock'])
})

test('a large orphan is adopted in chunks without splitting a line', () => {
  const dir = folder()
  const padding = { note: 'y'.repeat(1_500) }
  const lines = Array.from({ length: 6_000 }, (_, i) => encodeEntry(entry(i, padding))).join('')
  writeFileSync(join(dir, 'big-orphan.jsonl'), lines)
  let chunks = 0
  const ids: string[] = []
  expect(
    adoptOrphans(dir, 'me', (adoption) => {
      chunks += 1
      expect(adoption.invalid).toEqual([])
      ids.push(...adoption.entries.map((e) => e.row.requestId))
    }),
  ).toBe(6_000)
  expect(chunks).toBeGreaterThan(1)
  expect(ids).toEqual(Array.from({ length: 6_000 }, (_, i) => `r-${i}`))
  expect(readdirSync(dir)).toEqual([])
})
