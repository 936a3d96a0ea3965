import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { chat, startProxyGateway, type ProxyGateway } from '../../../test/proxy-gateway'
import type { KeyRow } from '../../db/ports'
import { sha256Hex } from '../../lib/secrets'

describeEachEngine('model access and the hot path', (engine) => {
  let proxy: ProxyGateway
  const keys: Record<string, string> = {}
  const send = (key: string, model: string, extra: Record<string, unknown> = {}) =>
    proxy.gateway.call('POST', '/v1/chat/completions', { key, body: chat(model, extra) })
  const keyFor = async (name: string, fields: Partial<KeyRow> & { key?: string }) => (keys[name] = (await insertKey(proxy.gateway.store.repos, fields)).key)

  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
    const { repos } = proxy.gateway.store
    await insertTeam(repos, { teamId: 'team-llama', models: ['llama3'] })
    await insertTeam(repos, { teamId: 'team-gpt', models: ['gpt-4o'], modelAliases: { 'team-fast': 'gpt-4o-mini', shared: 'gpt-4o' } })
    await insertTeam(repos, { teamId: 'team-all', models: [] })
    await insertTeam(repos, { teamId: 'team-alias', models: [], modelAliases: { shared: 'gpt-4o', 'team-fast': 'gpt-4o-mini' } })
    await insertUser(repos, { userId: 'member-1' })
    await repos.budgets.insert({ budgetId: 'member-1-budget', allowedModels: ['gpt-4o-mini'] })
    await repos.memberships.insert({ userId: 'member-1', teamId: 'team-all', role: 'user', budgetId: 'member-1-budget' })
    await insertUser(repos, { userId: 'picky-user', models: ['gpt-4o-mini'] })
    await insertUser(repos, { userId: 'team-only-user', models: ['no-default-models'] })
    await repos.budgets.insert({ budgetId: 'org-budget' })
    await repos.organizations.insert({ organizationId: 'org-open', organizationAlias: 'Open', budgetId: 'org-budget', models: ['llama3'], metadata: {} })

    await keyFor('llamaOnly', { models: ['llama3'] })
    await keyFor('teamLlama', { teamId: 'team-llama' })
    await keyFor('member', { teamId: 'team-all', userId: 'member-1' })
    await keyFor('picky', { userId: 'picky-user' })
    await keyFor('teamOnly', { userId: 'team-only-user' })
    await keyFor('org', { organizationId: 'org-open' })
    await keyFor('allTeam', { teamId: 'team-gpt', models: ['all-team-models'] })
    await keyFor('everything', { models: ['all-proxy-models'] })
    await keyFor('star', { models: ['*'] })
    await keyFor('premium', { models: ['premium'] })
    await keyFor('openaiWildcard', { models: ['openai/*'] })
    await keyFor('aliased', { models: ['my-model', 'shared', 'team-fast'], aliases: { 'my-model': 'llama3', shared: 'llama3' }, teamId: 'team-alias' })
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    proxy.upstream.reset()
    proxy.usage.records.length = 0
  })

  test('a model outside a list is refused with the contract 401 of the level that refuses it, before any upstream call', async () => {
    const denial = (type: string, message: string) => ({ error: { message, type, param: 'model', code: 401 } })
    const cases: Array<[string, string, unknown]> = [
      ['llamaOnly', 'gpt-4o', denial('key_model_access_denied', "key not allowed to access model. This key can only access models=['llama3']. Tried to access gpt-4o")],
      ['teamLlama', 'gpt-4o', denial('team_model_access_denied', "Team not allowed to access model. Team=team-llama, Model=gpt-4o. Allowed team models = ['llama3']")],
      [
        'member',
        'gpt-4o',
        denial('team_model_access_denied', "Team member not allowed to access model. User=member-1, Team=team-all, Model=gpt-4o, Allowed member models = ['gpt-4o-mini']"),
      ],
      ['picky', 'gpt-4o', denial('user_model_access_denied', "user not allowed to access model. This user can only access models=['gpt-4o-mini']. Tried to access gpt-4o")],
      [
        'teamOnly',
        'gpt-4o',
        denial('user_model_access_denied', 'User not allowed to access model. No default model access, only team models allowed. Tried to access gpt-4o'),
      ],
      ['org', 'gpt-4o', denial('org_model_access_denied', "org not allowed to access model. This org can only access models=['llama3']. Tried to access gpt-4o")],
      ['allTeam', 'llama3', denial('team_model_access_denied', "Team not allowed to access model. Team=team-gpt, Model=llama3. Allowed team models = ['gpt-4o']")],
      ['premium', 'llama3', denial('key_model_access_denied', "key not allowed to access model. This key can only access models=['premium']. Tried to access llama3")],
    ]
    for (const [key, model, expected] of cases) {
      const response = await send(keys[key], model)
      expect({ key, status: response.status, body: response.body }).toEqual({ key, status: 401, body: expected })
    }
    expect(proxy.upstream.requests).toHaveLength(0)
    expect(proxy.usage.records).toHaveLength(0)
  })

  test('what the lists allow is served: own models, team models through all-team-models, *, all-proxy-models, access groups, provider wildcards', async () => {
    const allowed: Array<[string, string]> = [
      ['llamaOnly', 'llama3'],
      ['teamLlama', 'llama3'],
      ['member', 'gpt-4o-mini'],
      ['picky', 'gpt-4o-mini'],
      ['org', 'llama3'],
      ['allTeam', 'gpt-4o'],
      ['everything', 'llama3'],
      ['everything', 'openai/anything'],
      ['star', 'gpt-4o-mini'],
      ['premium', 'gpt-4o'],
      ['openaiWildcard', 'gpt-4o'],
      ['openaiWildcard', 'openai/o3'],
    ]
    for (const [key, model] of allowed) {
      const response = await send(keys[key], model)
      expect({ key, model, status: response.status }).toEqual({ key, model, status: 200 })
    }
    expect(proxy.usage.records).toHaveLength(allowed.length)
  })

  test('aliases rewrite the model (key aliases first, then team model_aliases, then the router); the alias or its target grants access', async () => {
    const viaKeyAlias = await send(keys.aliased, 'my-model')
    expect(viaKeyAlias.status).toBe(200)
    expect(proxy.upstream.requests[0].body.model).toBe('meta-llama-3')
    expect(proxy.usage.records[0]).toMatchObject({ requestedModel: 'my-model', modelGroup: 'llama3', model: 'meta-llama-3' })
    expect(viaKeyAlias.headers.get('x-litellm-model-group')).toBe('llama3')
    // `shared` is both a key alias (→ llama3) and a team alias (→ gpt-4o): the key's wins.
    expect((await send(keys.aliased, 'shared')).headers.get('x-litellm-model-group')).toBe('llama3')
    const viaTeamAlias = await send(keys.aliased, 'team-fast')
    expect(viaTeamAlias.status).toBe(200)
    expect(proxy.usage.records.at(-1)).toMatchObject({ requestedModel: 'team-fast', modelGroup: 'gpt-4o-mini' })
    // Neither the alias nor its target is on team-gpt's list.
    const refused = await send(keys.allTeam, 'team-fast')
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toBe("Team not allowed to access model. Team=team-gpt, Model=team-fast. Allowed team models = ['gpt-4o']")
    const viaRouterAlias = await send(keys.allTeam, 'gpt4')
    expect(viaRouterAlias.status).toBe(200)
    expect(proxy.usage.records.at(-1)).toMatchObject({ requestedModel: 'gpt4', modelGroup: 'gpt-4o' })
  })

  test('a key blocked and a team narrowed through an invalidation are refused on their next request', async () => {
    const { repos } = proxy.gateway.store
    const blocked = await keyFor('toBlock', {})
    expect((await send(blocked, 'gpt-4o')).status).toBe(200)
    await repos.keys.update(sha256Hex(blocked), { blocked: true })
    await proxy.gateway.context.invalidator.publish({ kind: 'keys', id: sha256Hex(blocked) })
    const refused = await send(blocked, 'gpt-4o')
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toBe("Key is blocked. Update via `/key/unblock` if you're an admin.")

    const teamKey = await keyFor('narrowed', { teamId: 'team-gpt' })
    expect((await send(teamKey, 'gpt-4o')).status).toBe(200)
    await repos.teams.update('team-gpt', { models: ['gpt-4o-mini'] })
    await proxy.gateway.context.invalidator.publish({ kind: 'teams', id: 'team-gpt' })
    expect((await send(teamKey, 'gpt-4o')).body.error.type).toBe('team_model_access_denied')
    await repos.teams.update('team-gpt', { models: ['gpt-4o'] })
    await proxy.gateway.context.invalidator.publish({ kind: 'teams', id: 'team-gpt' })
  })

  test('1,000 proxied requests with a warm cache make no database query', async () => {
    const { repos } = proxy.gateway.store
    await insertUser(repos, { userId: 'hot-user', maxBudget: 100 })
    await repos.budgets.insert({ budgetId: 'hot-member-budget', allowedModels: ['gpt-4o'] })
    await repos.budgets.insert({ budgetId: 'hot-org-budget', maxBudget: 100 })
    await repos.organizations.insert({ organizationId: 'hot-org', organizationAlias: 'Hot', budgetId: 'hot-org-budget', models: [], metadata: {} })
    await insertTeam(repos, { teamId: 'hot-team', models: ['gpt-4o'], organizationId: 'hot-org', maxBudget: 100, tpmLimit: 100000, rpmLimit: 100000 })
    await repos.memberships.insert({ userId: 'hot-user', teamId: 'hot-team', role: 'user', budgetId: 'hot-member-budget' })
    const key = await keyFor('hot', { teamId: 'hot-team', userId: 'hot-user', maxBudget: 100, tpmLimit: 100000, rpmLimit: 100000 })
    const body = { user: 'hot-customer', metadata: { tags: ['hot'] } }
    expect((await send(key, 'gpt-4o', body)).status).toBe(200)
    const before = proxy.gateway.store.database.stats.queries
    for (let batch = 0; batch < 100; batch++) {
      const statuses = await Promise.all(Array.from({ length: 10 }, async () => (await send(key, 'gpt-4o', body)).status))
      expect(statuses).toEqual(Array(10).fill(200))
    }
    expect(proxy.gateway.store.database.stats.queries).toBe(before)
    expect(proxy.usage.records).toHaveLength(1001)
    expect(proxy.usage.records.at(-1)).toMatchObject({ organizationId: 'hot-org', endUser: 'hot-customer', teamId: 'hot-team' })
  })
})
