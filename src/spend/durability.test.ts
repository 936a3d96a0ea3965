import { expect, test } from 'bun:test'
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describeEachEngine, describePostgres, postgresEngine } from '../../test/engines'
import { insertTeam } from '../../test/fixtures'
import { openSpendHarness, type SpendHarness } from '../../test/spend-harness'
import { spendRow } from '../../test/spend-rows'
import { startTcpProxy } from '../../test/tcp-proxy'
import { openDatabase } from '../db/open'
import { createRepositories } from '../db/repositories'
import type { SpendLogRow } from '../db/ports'
import { thisHost } from './spool'

const ROOT = resolve(import.meta.dir, '..', '..')

/** A gateway process recording settlements (test/spend-child.ts); `recorded` lists the ids whose record() returned. */
function spawnRecorder(url: string, folder: string, teamId: string) {
  const child = Bun.spawn(['bun', 'test/spend-child.ts', url, folder, '0.05', teamId], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  const recorded: string[] = []
  const waiting: { current: { count: number; resolve: () => void } | null } = { current: null }
  void (async () => {
    const decoder = new TextDecoder()
    let rest = ''
    for await (const chunk of child.stdout) {
      rest += decoder.decode(chunk, { stream: true })
      const lines = rest.split('\n')
      rest = lines.pop()!
      for (const line of lines) if (line.startsWith('recorded ')) recorded.push(line.slice('recorded '.length))
      if (waiting.current && recorded.length >= waiting.current.count) waiting.current.resolve()
    }
  })()
  return {
    child,
    recorded,
    async waitFor(count: number) {
      if (recorded.length >= count) return
      const exited = child.exited.then(async () => {
        throw new Error(`recorder exited early: ${await new Response(child.stderr).text()}`)
      })
      await Promise.race([new Promise<void>((resolve) => (waiting.current = { count, resolve })), exited])
    },
  }
}

const sequence = (row: SpendLogRow) => Number(row.requestId.split('-')[1])

/** Every stored row for the team in recording order, and the check that the team's spend is their exact sum. */
async function expectSettledOnce(h: SpendHarness, teamId: string, recorded: readonly string[]) {
  const { rows } = await h.store.repos.spendLogs.list({ teamId }, { offset: 0, limit: 100_000 })
  const stored = rows.sort((a, b) => sequence(a) - sequence(b))
  const ids = new Set(stored.map((row) => row.requestId))
  expect(recorded.filter((id) => !ids.has(id))).toEqual([])
  const team = (await h.store.repos.teams.get(teamId))!
  expect(team.spend).toBe(stored.reduce((sum, row) => sum + row.spend, 0))
  const [rollup] = await h.store.repos.dailySpend.summarize({ entityType: 'team', entityIds: [teamId] }, [])
  expect(rollup.apiRequests).toBe(stored.length)
  return stored
}

/** The pid of a process that has exited: a lock naming it belongs to an owner that is gone. */
async function deadPid(): Promise<number> {
  const child = Bun.spawn(['true'])
  await child.exited
  return child.pid
}

describeEachEngine('spend durability across processes', (engine) => {
  /** A recorder process on a fresh database, stopped with `signal` once it has recorded 1,500 rows. */
  async function recordThenSignal(signal: 'SIGKILL' | 'SIGTERM', check: (h: SpendHarness, recorded: string[], exitCode: number) => Promise<void>) {
    const h = await openSpendHarness(engine)
    try {
      await insertTeam(h.store.repos, { teamId: 'team-1' })
      const recorder = spawnRecorder(h.store.url, h.folder, 'team-1')
      await recorder.waitFor(1500)
      recorder.child.kill(signal)
      await check(h, recorder.recorded, await recorder.child.exited)
    } finally {
      await h.close()
    }
  }

  test('kill -9 after record() returned: the next start replays the spool; every recorded row is settled, none twice', () =>
    recordThenSignal('SIGKILL', async (h, recorded) => {
      expect(readdirSync(h.folder).some((name) => name.endsWith('.jsonl'))).toBe(true)
      const restarted = h.another()
      await restarted.start()
      expect(await restarted.flush()).toMatchObject({ remaining: 0 })
      const stored = await expectSettledOnce(h, 'team-1', recorded)
      expect(stored.length).toBeGreaterThanOrEqual(1500)
      // The orphan's files are gone; only the restarted instance's own spool remains.
      expect(readdirSync(h.folder).filter((name) => !name.startsWith(restarted.instance))).toEqual([])
    }), 60_000)

  test('SIGTERM: every row recorded before the signal is settled before the process exits, and the spool is removed', () =>
    recordThenSignal('SIGTERM', async (h, recorded, exitCode) => {
      expect(exitCode).toBe(0)
      await expectSettledOnce(h, 'team-1', recorded)
      expect(readdirSync(h.folder)).toEqual([])
    }), 60_000)

  test('a spool whose batch committed just before a crash (not yet trimmed) is replayed without counting twice', async () => {
    const h = await openSpendHarness(engine)
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      const rows = [0.5, 0.25, 0.125].map((spend, i) => spendRow({ requestId: `x-${i}`, teamId: 'team-a', spend }))
      for (const row of rows) h.spend.record(row)
      const spoolName = readdirSync(h.folder).find((name) => name.endsWith('.jsonl'))!
      const orphan = join(h.folder, 'crashed-1-abc.jsonl')
      copyFileSync(join(h.folder, spoolName), orphan)
      await h.spend.flush()
      // The copy is what a crash right after the commit would leave; one more row was never flushed.
      const late = spendRow({ requestId: 'x-3', teamId: 'team-a', spend: 1 })
      writeFileSync(orphan, `${readFileSync(orphan, 'utf8')}${JSON.stringify({ v: 1, t: h.clock.now(), row: late })}\n`)
      writeFileSync(join(h.folder, 'crashed-1-abc.lock'), JSON.stringify({ pid: await deadPid(), hostname: thisHost() }))

      const restarted = h.another()
      await restarted.start()
      await restarted.flush()
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(0.5 + 0.25 + 0.125 + 1)
      expect((await h.store.repos.spendLogs.list({ teamId: 'team-a' }, { offset: 0, limit: 10 })).total).toBe(4)
      expect(readdirSync(h.folder).some((name) => name.startsWith('crashed-1-abc'))).toBe(false)
    } finally {
      await h.close()
    }
  })

  test('the spool of a process that is still running is never adopted', async () => {
    const h = await openSpendHarness(engine)
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      h.spend.record(spendRow({ teamId: 'team-a', spend: 2 }))
      // A second instance sharing the folder: the first one's lock is live (same process here; another pid too).
      writeFileSync(join(h.folder, 'peer-1-abc.jsonl'), `${JSON.stringify({ v: 1, t: 0, row: spendRow({ teamId: 'team-a', spend: 3 }) })}\n`)
      writeFileSync(join(h.folder, 'peer-1-abc.lock'), JSON.stringify({ pid: process.ppid, hostname: thisHost() }))
      const second = h.another()
      await second.start()
      await second.flush()
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(0)
      expect(second.backlog().events).toBe(0)
      await h.spend.flush()
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(2)
    } finally {
      await h.close()
    }
  })
})

describePostgres('spend durability when Postgres goes away', () => {
  test('the connection is cut during load and comes back: every row is settled, none twice, without a restart', async () => {
    const h = await openSpendHarness(postgresEngine)
    const target = new URL(h.store.url)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const proxied = new URL(h.store.url)
    proxied.host = `127.0.0.1:${proxy.port}`
    const database = await openDatabase(proxied.toString(), { poolSize: 4, connectTimeoutSeconds: 2 })
    const spend = h.another({ repos: createRepositories(database, h.clock), batchIntervalMs: 20 })
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      await spend.start()
      const recorded: SpendLogRow[] = []
      for (let i = 0; i < 1500; i++) {
        if (i === 400) proxy.cut()
        if (i === 1100) proxy.restore()
        const row = spendRow({ requestId: `r-${i}`, teamId: 'team-a', spend: ((i % 89) + 1) * 3.3e-7 })
        spend.record(row)
        recorded.push(row)
        if (i % 25 === 24) await Bun.sleep(5)
      }
      expect(h.log.lines.some((line) => line.message === 'database unreachable: settlements stay in the spend spool and are retried')).toBe(true)
      for (let attempt = 0; attempt < 20 && spend.backlog().events > 0; attempt++) await spend.flush()
      expect(spend.backlog().events).toBe(0)
      await expectSettledOnce(h, 'team-a', recorded.map((row) => row.requestId))
      expect((await h.store.repos.spendLogs.list({ teamId: 'team-a' }, { offset: 0, limit: 1 })).total).toBe(1500)
    } finally {
      await spend.stop()
      await proxy.close()
      // postgres.js waits out its 5 s end timeout after its connections were cut; nothing is pending.
      await database.close()
      await h.close()
    }
  }, 60_000)
})
