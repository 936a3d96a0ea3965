import { afterEach, expect, test } from 'bun:test'
import { sqliteEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { LATENCY_BUCKETS, teamLabels } from '../../metrics/registry'
import { goFloat } from '../../metrics/exposition'

let gateway: TestGateway | null = null
afterEach(async () => {
  await gateway?.close()
  gateway = null
})

test('/metrics needs a proxy-admin credential by default', async () => {
  gateway = await startGateway(sqliteEngine)
  expect((await gateway.call('GET', '/metrics', { key: null })).status).toBe(401)
  const scrape = await gateway.call('GET', '/metrics')
  expect(scrape.status).toBe(200)
  expect(scrape.headers.get('content-type')).toContain('text/plain')
  expect(scrape.text).toContain('# TYPE litellm_remaining_team_budget_metric gauge')
  expect(scrape.text).toContain('# TYPE litellm_proxy_total_requests_metric_total counter')
})

test('/metrics is public when require_auth_for_metrics_endpoint is false', async () => {
  gateway = await startGateway(sqliteEngine, { config: { litellm_settings: { require_auth_for_metrics_endpoint: false } } })
  expect((await gateway.call('GET', '/metrics', { key: null })).status).toBe(200)
})

test('gauges carry team, team_id and team_alias, and latency buckets follow the contract', async () => {
  gateway = await startGateway(sqliteEngine)
  gateway.context.metrics.remainingTeamBudget.set(teamLabels('de35b29e', 'QA Prod Bot'), 9.699999999999992e-6)
  const scrape = await gateway.call('GET', '/metrics')
  // The seed's line, as LiteLLM prints it (Python float format), with `team` added.
  expect(scrape.text).toContain('litellm_remaining_team_budget_metric{team="de35b29e",team_alias="QA Prod Bot",team_id="de35b29e"} 9.699999999999992e-06')
  expect(LATENCY_BUCKETS.slice(0, 8)).toEqual([0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1])
  expect(LATENCY_BUCKETS).toContain(10)
  expect(LATENCY_BUCKETS.at(-1)).toBe(300)
})

test('sample values are printed as Python prometheus_client prints them', () => {
  expect(goFloat(1)).toBe('1.0')
  expect(goFloat(0)).toBe('0.0')
  expect(goFloat(9.699999999999992e-6)).toBe('9.699999999999992e-06')
  expect(goFloat(1234567.5)).toBe('1.2345675e+06')
  expect(goFloat(Infinity)).toBe('+Inf')
  expect(goFloat(-Infinity)).toBe('-Inf')
})
