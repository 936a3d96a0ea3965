/**
 * Proxied requests' cost reaches every level it touches through the durable spend engine, exactly once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../test/fixtures'
import { chat, startProxyGateway, type ProxyGateway } from '../../test/proxy-gateway'

describeEachEngine('spend of proxied requests', (engine) => {
  let proxy: ProxyGateway
  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
  })
  afterAll(() => proxy.close())

  test('key, team, member, user, organization, end user and tags each get the sum of their spend log rows', async () => {
    const repos = proxy.gateway.store.repos
    const budget = await repos.budgets.insert({ budgetId: 'org-budget' })
    await repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: budget.budgetId, models: [], metadata: {} })
    const team = await insertTeam(repos, { teamAlias: 'QA Prod Bot', organizationId: 'org-1', metadata: { tags: ['team-tag'] } })
    const user = await insertUser(repos)
    await repos.memberships.insert({ teamId: team.teamId, userId: user.userId, role: 'user' })
    await repos.tags.insert({ tagName: 'team-tag', models: [] })
    await repos.tags.insert({ tagName: 'request-tag', models: [] })
    const { key, row } = await insertKey(repos, { teamId: team.teamId, userId: user.userId, keyAlias: 'ci-key' })

    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4o']) {
      const response = await proxy.gateway.call('POST', '/v1/chat/completions', {
        key,
        body: chat(model, { user: 'customer-1', metadata: { tags: ['request-tag'] } }),
      })
      expect(response.status).toBe(200)
    }
    const streamed = await proxy.gateway.call('POST', '/v1/chat/completions', { key, body: chat('gpt-4o', { stream: true, user: 'customer-1' }) })
    expect(streamed.status).toBe(200)
    await proxy.usage.waitFor(4)
    await proxy.gateway.context.spend.flush()

    const logs = await repos.spendLogs.list({ apiKey: row.token }, { offset: 0, limit: 100 })
    expect(logs.total).toBe(4)
    const sum = (rows: typeof logs.rows) => [...rows].sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.requestId.localeCompare(b.requestId)).reduce((total, r) => total + r.spend, 0)
    const total = sum(logs.rows)
    expect(total).toBeGreaterThan(0)
    expect((await repos.keys.get(row.token))!.spend).toBeCloseTo(total, 15)
    expect((await repos.teams.get(team.teamId))!.spend).toBeCloseTo(total, 15)
    expect((await repos.memberships.get({ teamId: team.teamId, userId: user.userId }))!.spend).toBeCloseTo(total, 15)
    expect((await repos.users.get(user.userId))!.spend).toBeCloseTo(total, 15)
    expect((await repos.organizations.get('org-1'))!.spend).toBeCloseTo(total, 15)
    expect((await repos.endUsers.get('customer-1'))!.spend).toBeCloseTo(total, 15)
    expect((await repos.tags.get('team-tag'))!.spend).toBeCloseTo(total, 15)
    expect((await repos.tags.get('request-tag'))!.spend).toBeCloseTo(sum(logs.rows.filter((r) => r.requestTags.includes('request-tag'))), 15)

    // The raw row as /spend/logs shows it carries LiteLLM's metadata keys.
    const raw = await proxy.gateway.call('GET', `/spend/logs?request_id=${logs.rows[0].requestId}`)
    expect(raw.body[0].metadata).toMatchObject({
      user_api_key: row.token,
      user_api_key_alias: 'ci-key',
      user_api_key_team_id: team.teamId,
      user_api_key_team_alias: 'QA Prod Bot',
      user_api_key_user_id: user.userId,
      user_api_key_org_id: 'org-1',
    })
    // Settling again changes nothing: the rows are already written.
    await proxy.gateway.context.spend.flush()
    expect((await repos.teams.get(team.teamId))!.spend).toBeCloseTo(total, 15)
  })

  test('a model without a price is served to an unbudgeted key and recorded at 0 with cost_unknown', async () => {
    const repos = proxy.gateway.store.repos
    const { key, row } = await insertKey(repos)
    const before = proxy.usage.records.length
    expect((await proxy.gateway.call('POST', '/v1/chat/completions', { key, body: chat('openai/my-local-model') })).status).toBe(200)
    await proxy.usage.waitFor(before + 1)
    await proxy.gateway.context.spend.flush()
    const [log] = (await repos.spendLogs.list({ apiKey: row.token }, { offset: 0, limit: 10 })).rows
    expect(log.spend).toBe(0)
    expect(log.metadata.cost_unknown).toBe(true)
  })
})
