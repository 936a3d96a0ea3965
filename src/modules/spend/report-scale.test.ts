import { afterAll, beforeAll, expect, test } from 'bun:test'
import postgres from 'postgres'
import { describePostgres, postgresEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { seededRandom, spendRow } from '../../../test/spend-rows'
import { BENCH_MONTH, DERIVED_ROLLUPS, deriveRollups, RAW_TEAM_REPORT, seedSpendLogs, TYPICAL } from '../../../test/spend-seed'

const ROWS = 100_000

describePostgres('the spend report at scale', () => {
  let gateway: TestGateway
  let sql: postgres.Sql
  beforeAll(async () => {
    gateway = await startGateway(postgresEngine)
    sql = postgres(gateway.store.url, { max: 1, onnotice: () => {} })
  })
  afterAll(async () => {
    await sql.end()
    await gateway.close()
  })

  test('the benchmark derives rollups exactly as settlement writes them', async () => {
    const random = seededRandom(11)
    for (let i = 0; i < 600; i++) {
      const k = Math.floor(random() * 7)
      gateway.context.spend.record(
        spendRow({
          apiKey: k === 0 ? '' : `key-${k}`,
          teamId: k % 3 === 0 ? null : `team-${k % 3}`,
          userId: k % 2 === 0 ? null : `user-${k}`,
          organizationId: k === 4 ? 'org-1' : null,
          endUser: random() < 0.4 ? null : `cust-${Math.floor(random() * 4)}`,
          requestTags: random() < 0.3 ? ['prod', 'batch'] : random() < 0.5 ? ['prod'] : [],
          model: `m-${Math.floor(random() * 3)}`,
          modelGroup: `g-${k % 2}`,
          promptTokens: Math.floor(random() * 100),
          completionTokens: Math.floor(random() * 100),
          spend: Math.floor(random() * 1000) / 1024,
          status: random() < 0.1 ? 'failure' : 'success',
          startTime: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 3 * 86_400_000)),
        }),
      )
    }
    await gateway.context.spend.flush()
    const identity = 'entity_type, entity_id, date, api_key, model_group, model, provider'
    const normalize = (rows: Record<string, unknown>[]) => rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) && k.endsWith('s') ? Number(v) : v])))
    const derived = normalize(await sql.unsafe(`select * from (${DERIVED_ROLLUPS}) as d order by ${identity}`))
    const written = normalize(await sql.unsafe(`select * from daily_spend order by ${identity}`))
    expect(written.length).toBeGreaterThan(100)
    expect(written).toEqual(derived)
    await sql.unsafe('truncate daily_spend, spend_logs, settled_requests')
  })

  test(`/global/spend/report for a month over ${ROWS.toLocaleString()} rows answers from the rollups in well under 200 ms, with what the raw rows say`, async () => {
    await seedSpendLogs(sql, 0, ROWS, ROWS, TYPICAL)
    await deriveRollups(sql)
    const path = `/global/spend/report?start_date=${BENCH_MONTH.from}&end_date=${BENCH_MONTH.to}`
    await gateway.call('GET', path)
    const times: number[] = []
    let body: any
    for (let i = 0; i < 7; i++) {
      const started = performance.now()
      const response = await gateway.call('GET', path)
      times.push(performance.now() - started)
      expect(response.status).toBe(200)
      body = response.body
    }
    const median = times.sort((a, b) => a - b)[3]
    console.log(`/global/spend/report, ${ROWS.toLocaleString()} spend log rows: median ${median.toFixed(1)} ms`)
    expect(median).toBeLessThan(200)

    // Same lines and sums as the report computed from the raw rows.
    const raw = await sql.unsafe(RAW_TEAM_REPORT, [`${BENCH_MONTH.from}T00:00:00Z`, '2026-02-01T00:00:00Z'])
    const lines = body.flatMap((day: any) =>
      day.teams.flatMap((team: any) => team.metadata.map((line: any) => [day.group_by_day.slice(0, 10), team.team_name, line.model, line.api_key, line.total_tokens])),
    )
    expect(lines).toEqual(raw.map((row) => [row.day, row.team, row.model, row.api_key, Number(row.tokens)]))
    const rawSpend = raw.reduce((sum, row) => sum + row.spend, 0)
    const reportSpend = body.reduce((sum: number, day: any) => sum + day.teams.reduce((s: number, team: any) => s + team.total_spend, 0), 0)
    expect(reportSpend).toBeCloseTo(rawSpend, 6)
  }, 120_000)
})
