/**
 * `/global/spend/report` for a month over a large spend log (default 1,000,000 rows) on Postgres: seeds a fresh
 * database (generate_series, then the daily rollups derived in SQL as the settlement path derives them), then
 * times the report through the real app, each group_by, against the same report computed from the raw rows.
 *
 *   bun scripts/bench-spend-report.ts [--rows 1000000] [--runs 15] [--shape typical|heavy] [--keep]
 *   (Postgres from TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { createApp } from '../src/app'
import { createAppContext } from '../src/app-context'
import { settingsFromObject } from '../src/config/load'
import { openDatabase } from '../src/db/open'
import { systemClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/logger'
import { BENCH_MONTH, deriveRollups, HEAVY, RAW_TEAM_REPORT, seedSpendLogs, TYPICAL } from '../test/spend-seed'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '15' },
    shape: { type: 'string', default: 'typical' },
    keep: { type: 'boolean', default: false },
  },
})
const shape = values.shape === 'heavy' ? HEAVY : TYPICAL
const rows = Number(values.rows)
const runs = Number(values.runs)
const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const name = `tollgate_bench_${randomBytes(4).toString('hex')}`
const url = new URL(base)
url.pathname = `/${name}`
const MASTER_KEY = 'sk-bench-master-key-0123456789abcdefghijkl'

const admin = postgres(base, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${name}`)
const database = await openDatabase(url.toString(), { poolSize: 4 })
await database.migrate()
const sql = postgres(url.toString(), { max: 1, onnotice: () => {} })

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1)
let started = performance.now()
const CHUNK = 100_000
for (let first = 0; first < rows; first += CHUNK) {
  await seedSpendLogs(sql, first, Math.min(CHUNK, rows - first), rows, shape)
  process.stdout.write(`\rseeding spend_logs: ${Math.min(first + CHUNK, rows).toLocaleString()} / ${rows.toLocaleString()} (${seconds(started)} s)`)
}
started = performance.now()
await deriveRollups(sql)
const [{ count: rollupRows }] = await sql`select count(*)::int as count from daily_spend`
const [{ count: teamRows }] = await sql`select count(*)::int as count from daily_spend where entity_type = 'team'`
console.log(`\nrollups derived: ${rollupRows.toLocaleString()} daily_spend rows (${teamRows.toLocaleString()} team rows) in ${seconds(started)} s`)

const settings = settingsFromObject({ general_settings: { master_key: MASTER_KEY, spend_spool_dir: `/tmp/${name}-spool` } })
const context = await createAppContext({ settings, database, clock: systemClock, log: silentLogger })
const app = createApp(context)

async function time(label: string, call: () => Promise<number>) {
  for (let i = 0; i < 3; i++) await call()
  const samples: number[] = []
  let bytes = 0
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    bytes = await call()
    samples.push(performance.now() - start)
  }
  samples.sort((a, b) => a - b)
  const pick = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(1)
  console.log(`${label.padEnd(44)} median ${pick(0.5).padStart(7)} ms   p90 ${pick(0.9).padStart(7)} ms   max ${pick(1).padStart(7)} ms   ${(bytes / 1024).toFixed(0)} KiB`)
}

const report = (query: string) => async () => {
  const response = await app.handle(
    new Request(`http://localhost/global/spend/report?start_date=${BENCH_MONTH.from}&end_date=${BENCH_MONTH.to}${query}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } }),
  )
  if (response.status !== 200) throw new Error(`report answered ${response.status}: ${await response.text()}`)
  return (await response.arrayBuffer()).byteLength
}

console.log(
  `\n/global/spend/report for ${BENCH_MONTH.from} … ${BENCH_MONTH.to} over ${rows.toLocaleString()} spend log rows, ${values.shape} traffic (${shape.keys} keys × ${shape.modelsPerKey} models a day), ${runs} runs after 3 warm-ups:`,
)
await time('group_by=team (default)', report(''))
await time('group_by=customer', report('&group_by=customer'))
await time('group_by=model', report('&group_by=model'))
await time('group_by=tag', report('&group_by=tag'))
await time('group_by=api_key', report('&group_by=api_key'))
await time('internal_user_id=user-7', report('&internal_user_id=user-7'))
await time('the team report from raw spend_logs (SQL only)', async () => {
  const result = await sql.unsafe(RAW_TEAM_REPORT, [`${BENCH_MONTH.from}T00:00:00Z`, '2026-02-01T00:00:00Z'])
  return JSON.stringify(result).length
})

await sql.end()
await context.lifecycle.stop()
await database.close()
if (!values.keep) await admin.unsafe(`drop database if exists ${name} with (force)`)
else console.log(`kept database ${url.toString()}`)
await admin.end()
