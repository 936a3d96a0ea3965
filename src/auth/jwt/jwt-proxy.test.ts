/**
 * JWTs on the data plane (§7): a token whose team is new creates it from `default_team_settings`, is served
 * through the upstream, is charged to that team and metered, and is rate limited like a key request.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import type { JwksServer } from '../../../test/jwks-server'
import { sample, scrape } from '../../../test/metrics-scrape'
import { chat, startJwtProxyGateway, type ProxyGateway } from '../../../test/proxy-gateway'
import { goFloat } from '../../metrics/exposition'

describeEachEngine('JWT requests on the data plane', (engine) => {
  let proxy: ProxyGateway & { idp: JwksServer }
  beforeAll(async () => {
    proxy = await startJwtProxyGateway(engine, {
      // Seed 003's JWT settings, at the top level as the seed writes them.
      litellm_jwtauth: { team_id_upsert: true, team_id_jwt_field: 'team_id' },
      litellm_settings: { default_team_settings: [{ team_id: 'default-settings', max_budget: 100.0, rpm_limit: 2 }] },
    })
  })
  afterAll(() => proxy.close())

  test('a token with a new team_id is served, its team is created with the default budget, and the spend lands on it', async () => {
    const { repos } = proxy.gateway.store
    const token = await proxy.idp.sign({ team_id: 'jwt-proxy-team' })
    const response = await proxy.gateway.call('POST', '/v1/chat/completions', { key: token, body: chat('gpt-4o') })
    expect(response.status).toBe(200)
    expect(response.body.choices[0].message.content).toBe('Hello from the fake upstream')
    expect(proxy.upstream.requests).toHaveLength(1)

    const team = (await repos.teams.get('jwt-proxy-team'))!
    expect(team.maxBudget).toBe(100)
    expect(team.spend).toBe(0)

    await proxy.usage.waitFor(1)
    const [record] = proxy.usage.records
    expect(record).toMatchObject({ keyHash: '', teamId: 'jwt-proxy-team', status: 'success' })
    expect(record.cost).toBeGreaterThan(0)
    await proxy.gateway.context.spend.flush()
    expect((await repos.teams.get('jwt-proxy-team'))!.spend).toBe(record.cost)
    const [row] = (await repos.spendLogs.list({ teamId: 'jwt-proxy-team' }, { offset: 0, limit: 10 })).rows
    expect(row).toMatchObject({ apiKey: '', teamId: 'jwt-proxy-team', spend: record.cost })

    // Metered like a key request, with the team's labels and no key.
    await proxy.gateway.context.observability.budgetGauges.idle()
    const text = await scrape(proxy.gateway)
    expect(sample(text, 'litellm_proxy_total_requests_metric_total', { team: 'jwt-proxy-team', hashed_api_key: '', status_code: '200' })).toBe('1.0')
    expect(sample(text, 'litellm_remaining_team_budget_metric', { team_id: 'jwt-proxy-team' })).toBe(goFloat(100 - record.cost))
  })

  test("a team's tokens share the team's rpm limit, like its keys", async () => {
    const token = await proxy.idp.sign({ team_id: 'jwt-limited-team' })
    const again = await proxy.idp.sign({ team_id: 'jwt-limited-team', sub: 'another-service' })
    expect((await proxy.gateway.call('POST', '/v1/chat/completions', { key: token, body: chat('gpt-4o') })).status).toBe(200)
    expect((await proxy.gateway.call('POST', '/v1/chat/completions', { key: again, body: chat('gpt-4o') })).status).toBe(200)
    const refused = await proxy.gateway.call('POST', '/v1/chat/completions', { key: token, body: chat('gpt-4o') })
    expect(refused.status).toBe(429)
    expect(refused.body.error).toMatchObject({
      type: 'rate_limit_error',
      message: 'Rate limit exceeded for team: jwt-limited-team. Limit type: rpm. Current limit: 2, Remaining: 0.',
    })
    expect(refused.headers.get('retry-after')).not.toBeNull()
  })
})
