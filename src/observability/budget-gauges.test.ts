/**
 * Budget gauges follow management changes, resets and settled spend, are refreshed from the database, and are
 * served from memory: a scrape never queries the database.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { describeEachEngine } from '../../test/engines'
import { insertTeam } from '../../test/fixtures'
import { sample, samplesOf, scrape } from '../../test/metrics-scrape'
import { chat, startProxyGateway, type ProxyGateway } from '../../test/proxy-gateway'
import type { ManualClock } from '../lib/clock'
import { goFloat } from '../metrics/exposition'
import { sha256Hex } from '../lib/secrets'

const HOUR = 3_600_000

describeEachEngine('budget gauges', (engine) => {
  let proxy: ProxyGateway
  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    // llama3 costs 1e-7 per prompt token and 2e-7 per completion token: 15 + 10 tokens are seed 003's 3.5e-06.
    proxy.upstream.reply = { ...proxy.upstream.reply, promptTokens: 15, completionTokens: 10 }
  })

  const api = async (path: string, body: unknown) => {
    const response = await proxy.gateway.call('POST', path, { body })
    expect(response.status).toBe(200)
    return response.body
  }
  const gauges = () => proxy.gateway.context.observability.budgetGauges
  /** Waits until the spend engine has committed what was recorded and the gauges have followed. */
  const settle = async (records: number) => {
    await proxy.usage.waitFor(records)
    await proxy.gateway.context.spend.flush()
    await gauges().idle()
  }
  const metrics = async () => {
    await gauges().idle()
    return scrape(proxy.gateway)
  }

  test("seed 003: after a request spending against team QA Prod Bot, its remaining budget is max − spend, in LiteLLM's format", async () => {
    // The seed's metric line implies a budget of 1e-05 (its example response even shows another value).
    const team = await api('/team/new', { team_alias: 'QA Prod Bot', max_budget: 0.00001, budget_duration: '1d' })
    const id = team.team_id
    const line = `litellm_remaining_team_budget_metric{team="${id}",team_alias="QA Prod Bot",team_id="${id}"}`
    expect(await metrics()).toContain(`${line} 1e-05`)

    const { key } = await api('/key/generate', { team_id: id })
    const records = proxy.usage.records.length + 1
    expect((await proxy.gateway.call('POST', '/chat/completions', { key, body: chat('llama3') })).status).toBe(200)
    await settle(records)

    expect((await proxy.gateway.store.repos.teams.get(id))!.spend).toBe(0.0000035)
    const text = await metrics()
    expect(text).toContain(`${line} 6.5000000000000004e-06`)
    expect(text).toContain(`litellm_team_max_budget_metric{team="${id}",team_alias="QA Prod Bot",team_id="${id}"} 1e-05`)
    expect(text).toContain(`litellm_team_budget_remaining_hours_metric{team="${id}",team_alias="QA Prod Bot",team_id="${id}"} 24.0`)
    // The spend and request counters moved too; the key has no cap of its own.
    expect(sample(text, 'litellm_spend_metric_total', { team: id, model: 'meta-llama-3' })).toBe('3.5e-06')
    expect(sample(text, 'litellm_proxy_total_requests_metric_total', { team: id, status_code: '200' })).toBe('1.0')
    expect(text).toContain(`litellm_remaining_api_key_budget_metric{api_key_alias="",hashed_api_key="${sha256Hex(key)}"} +Inf`)
  })

  test("seed 003's own team (max_budget 1e-09) shows a negative remaining budget once its first request is spent", async () => {
    const team = await api('/team/new', { team_alias: 'QA Prod Bot 1e-9', max_budget: 0.000000001, budget_duration: '1d' })
    const { key } = await api('/key/generate', { team_id: team.team_id })
    const records = proxy.usage.records.length + 1
    expect((await proxy.gateway.call('POST', '/chat/completions', { key, body: chat('llama3') })).status).toBe(200)
    await settle(records)
    expect(sample(await metrics(), 'litellm_remaining_team_budget_metric', { team_id: team.team_id })).toBe('-3.499e-06')
  })

  test('team gauges follow create, update, an alias change, a reset and a delete at once, without waiting for a refresh', async () => {
    const { repos } = proxy.gateway.store
    const team = await api('/team/new', { team_alias: 'Ops', max_budget: 10, budget_duration: '1d' })
    const id = team.team_id
    const remaining = async () => sample(await metrics(), 'litellm_remaining_team_budget_metric', { team_id: id })
    expect(await remaining()).toBe('10.0')

    await api('/team/update', { team_id: id, max_budget: 20 })
    expect(await remaining()).toBe('20.0')
    expect(sample(await metrics(), 'litellm_team_max_budget_metric', { team_id: id })).toBe('20.0')

    await api('/team/update', { team_id: id, team_alias: 'Ops 2' })
    let text = await metrics()
    expect(samplesOf(text, 'litellm_remaining_team_budget_metric').filter((line) => line.includes(id))).toEqual([
      `litellm_remaining_team_budget_metric{team="${id}",team_alias="Ops 2",team_id="${id}"} 20.0`,
    ])

    // Spend settled elsewhere, then a window reset as the budget sweeper does it: compare-and-set, then an invalidation.
    await repos.teams.addSpend(id, 5)
    await proxy.gateway.context.invalidator.publish({ kind: 'teams', id })
    expect(await remaining()).toBe('15.0')
    const current = (await repos.teams.get(id))!
    expect(await repos.teams.resetWindow(id, current.budgetResetAt!, new Date(current.budgetResetAt!.getTime() + 24 * HOUR))).toBe(true)
    await proxy.gateway.context.invalidator.publish({ kind: 'teams', id })
    expect(await remaining()).toBe('20.0')
    expect(sample(await metrics(), 'litellm_team_budget_remaining_hours_metric', { team_id: id })).toBe('48.0')

    await api('/team/update', { team_id: id, max_budget: null })
    text = await metrics()
    expect(sample(text, 'litellm_remaining_team_budget_metric', { team_id: id })).toBe('+Inf')
    expect(sample(text, 'litellm_team_max_budget_metric', { team_id: id })).toBeUndefined()

    await api('/team/delete', { team_ids: [id] })
    text = await metrics()
    for (const name of ['litellm_remaining_team_budget_metric', 'litellm_team_max_budget_metric', 'litellm_team_budget_remaining_hours_metric']) {
      expect(sample(text, name, { team_id: id })).toBeUndefined()
    }
  })

  test('key, user and organization gauges: caps of their own or of a budget tier, and spend after settlement', async () => {
    await api('/user/new', { user_id: 'gauge-user', max_budget: 3 })
    await api('/organization/new', { organization_id: 'gauge-org', organization_alias: 'Gauge Org', max_budget: 50 })
    const own = await api('/key/generate', { key_alias: 'gauge-key', user_id: 'gauge-user', organization_id: 'gauge-org', max_budget: 2, budget_duration: '1h' })
    await api('/budget/new', { budget_id: 'gauge-tier', max_budget: 7 })
    const tiered = await api('/key/generate', { key_alias: 'tier-key', budget_id: 'gauge-tier' })
    const ownKey = { hashed_api_key: sha256Hex(own.key), api_key_alias: 'gauge-key' }
    const tierKey = { hashed_api_key: sha256Hex(tiered.key), api_key_alias: 'tier-key' }

    let text = await metrics()
    expect(sample(text, 'litellm_remaining_user_budget_metric', { user: 'gauge-user' })).toBe('3.0')
    expect(sample(text, 'litellm_user_max_budget_metric', { user: 'gauge-user' })).toBe('3.0')
    expect(text).toContain('litellm_remaining_org_budget_metric{organization_alias="Gauge Org",organization_id="gauge-org"} 50.0')
    expect(sample(text, 'litellm_org_max_budget_metric', { organization_id: 'gauge-org' })).toBe('50.0')
    expect(sample(text, 'litellm_remaining_api_key_budget_metric', ownKey)).toBe('2.0')
    expect(sample(text, 'litellm_api_key_max_budget_metric', ownKey)).toBe('2.0')
    expect(sample(text, 'litellm_api_key_budget_remaining_hours_metric', ownKey)).toBe('1.0')
    expect(sample(text, 'litellm_api_key_max_budget_metric', tierKey)).toBe('7.0')

    // The tier changes: every key linked to it follows.
    await api('/budget/update', { budget_id: 'gauge-tier', max_budget: 8 })
    expect(sample(await metrics(), 'litellm_remaining_api_key_budget_metric', tierKey)).toBe('8.0')

    const records = proxy.usage.records.length + 1
    expect((await proxy.gateway.call('POST', '/chat/completions', { key: own.key, body: chat('llama3') })).status).toBe(200)
    await settle(records)
    text = await metrics()
    expect(sample(text, 'litellm_remaining_api_key_budget_metric', ownKey)).toBe(goFloat(2 - 0.0000035))
    expect(sample(text, 'litellm_remaining_user_budget_metric', { user: 'gauge-user' })).toBe(goFloat(3 - 0.0000035))
    expect(sample(text, 'litellm_remaining_org_budget_metric', { organization_id: 'gauge-org' })).toBe(goFloat(50 - 0.0000035))

    await api('/key/delete', { keys: [own.key] })
    text = await metrics()
    expect(sample(text, 'litellm_remaining_api_key_budget_metric', ownKey)).toBeUndefined()
    expect(sample(text, 'litellm_api_key_budget_remaining_hours_metric', ownKey)).toBeUndefined()
  })

  test('remaining hours are computed at each scrape from the clock', async () => {
    const team = await api('/team/new', { team_alias: 'Hourly', budget_duration: '1d' })
    const hours = async () => sample(await metrics(), 'litellm_team_budget_remaining_hours_metric', { team_id: team.team_id })
    expect(await hours()).toBe('24.0')
    ;(proxy.gateway.clock as ManualClock).advance(6 * HOUR)
    expect(await hours()).toBe('18.0')
  })

  test('the periodic refresh re-reads every object from the database, and drops the series of objects that are gone', async () => {
    const { repos } = proxy.gateway.store
    // Written straight to the database: no invalidation, so only a refresh can notice.
    const team = await insertTeam(repos, { teamAlias: 'Quiet', maxBudget: 5 })
    const remaining = async () => sample(await metrics(), 'litellm_remaining_team_budget_metric', { team_id: team.teamId })
    expect(await remaining()).toBeUndefined()
    await gauges().refreshAll()
    expect(await remaining()).toBe('5.0')
    await repos.teams.addSpend(team.teamId, 1.5)
    expect(await remaining()).toBe('5.0')
    await gauges().refreshAll()
    expect(await remaining()).toBe('3.5')
    await repos.teams.delete(team.teamId)
    await gauges().refreshAll()
    expect(await remaining()).toBeUndefined()
  })

  test('/global/spend/reset brings every gauge back to its full budget', async () => {
    const team = await api('/team/new', { team_alias: 'Reset all', max_budget: 4 })
    await proxy.gateway.store.repos.teams.addSpend(team.team_id, 3)
    await gauges().refreshAll()
    expect(sample(await metrics(), 'litellm_remaining_team_budget_metric', { team_id: team.team_id })).toBe('1.0')
    await api('/global/spend/reset', {})
    expect(sample(await metrics(), 'litellm_remaining_team_budget_metric', { team_id: team.team_id })).toBe('4.0')
  })

  test('100 scrapes of /metrics make no database query', async () => {
    await gauges().idle()
    const stats = proxy.gateway.context.database.stats
    const before = stats.queries
    for (let i = 0; i < 100; i++) expect((await proxy.gateway.call('GET', '/metrics')).status).toBe(200)
    expect(stats.queries).toBe(before)
    // The counter is live: a route that does read the database moves it.
    expect((await proxy.gateway.call('GET', '/health/readiness')).status).toBe(200)
    expect(stats.queries).toBeGreaterThan(before)
  })
})

describeEachEngine('budget gauges with the gateway running', (engine) => {
  let proxy: ProxyGateway
  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
  })
  afterAll(() => proxy.close())

  test('start loads every object, and a request is reflected within about a second, by the spend flush', async () => {
    const { repos } = proxy.gateway.store
    const team = await insertTeam(repos, { teamAlias: 'Running', maxBudget: 1 })
    const key = await proxy.gateway.call('POST', '/key/generate', { body: { team_id: team.teamId } })
    await proxy.gateway.context.lifecycle.start()
    const remaining = async () => sample(await scrape(proxy.gateway), 'litellm_remaining_team_budget_metric', { team_id: team.teamId })
    await proxy.gateway.context.observability.budgetGauges.idle()
    expect(await remaining()).toBe('1.0')

    const sent = performance.now()
    expect((await proxy.gateway.call('POST', '/chat/completions', { key: key.body.key, body: chat('llama3') })).status).toBe(200)
    // Polled, not slept: the spend engine flushes every second (proxy_batch_write_at) and the gauge follows.
    let value = await remaining()
    while (value === '1.0' && performance.now() - sent < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      value = await remaining()
    }
    expect(value).toBe(goFloat(1 - 0.000002))
    expect(performance.now() - sent).toBeLessThan(2500)
  })
})
