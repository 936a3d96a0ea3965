import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { SEED_COST, startBudgetGateway, type BudgetGateway } from '../../../test/budget-gateway'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { MASTER_KEY } from '../../../test/gateway'

const SEED_REFUSAL = '{"error":{"message":"Budget has been exceeded! Current cost: 3.5e-06, Max budget: 1e-09","type":"auth_error","param":null,"code":400}}'

describeEachEngine('budget admission', (engine) => {
  let g: BudgetGateway
  const webhook: any[] = []
  let hook: ReturnType<typeof Bun.serve>

  beforeAll(async () => {
    hook = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (request) => (webhook.push(await request.json()), new Response('ok')) })
    g = await startBudgetGateway(engine, {
      general_settings: { alert_to_webhook_url: `http://127.0.0.1:${hook.port}/alerts`, budget_wait_timeout: 0.2 },
      litellm_settings: { max_end_user_budget: 1e-6 },
    })
  })
  afterAll(async () => {
    await g.close()
    await hook.stop(true)
  })
  beforeEach(() => g.upstream.reset())

  const repos = () => g.gateway.store.repos
  const refusal = (response: { status: number; body: any; headers: Headers }) => ({
    status: response.status,
    type: response.body.error?.type,
    message: response.body.error?.message,
    scope: response.headers.get('x-tollgate-budget-scope'),
  })

  test('seed 003: a team with max_budget 1e-09 serves the first chat and refuses the second with the exact body', async () => {
    const before = g.clock.now()
    const team = await g.gateway.call('POST', '/team/new', { body: { team_alias: 'QA Prod Bot', max_budget: 0.000000001, budget_duration: '1d' } })
    expect(team.status).toBe(200)
    expect(team.body).toMatchObject({ max_budget: 1e-9, budget_duration: '1d', budget_reset_at: new Date(before + 86_400_000).toISOString().replace('Z', '000Z') })
    const key = await g.gateway.call('POST', '/key/generate', { body: { team_id: team.body.team_id } })
    expect((await g.chatAs(key.body.key)).status).toBe(200)
    const second = await g.chatAs(key.body.key)
    expect(second.status).toBe(400)
    expect(second.text).toBe(SEED_REFUSAL)
    expect(second.headers.get('x-tollgate-budget-scope')).toBe('team')
    expect(g.upstream.requests).toHaveLength(1)
    // Management reads show the spend at once (not yet flushed), and keep working over budget.
    const info = await g.gateway.call('GET', `/team/info?team_id=${team.body.team_id}`)
    expect(info.body.team_info.spend).toBe(SEED_COST)
  })

  test('every level refuses with its message, prefix and scope header, and the first level over budget is the one named', async () => {
    const r = repos()
    await insertUser(r, { userId: 'over-user', maxBudget: 1, spend: 1 })
    await insertUser(r, { userId: 'member-user' })
    await insertTeam(r, { teamId: 'member-team', teamMemberBudgetId: 'member-defaults' })
    await r.budgets.insert({ budgetId: 'member-defaults', maxBudget: 2 })
    await r.memberships.insert({ teamId: 'member-team', userId: 'member-user', role: 'user', spend: 2.5 })
    await r.budgets.insert({ budgetId: 'org-budget', maxBudget: 1e-5 })
    await r.organizations.insert({ organizationId: 'org-over', organizationAlias: 'Over', budgetId: 'org-budget', models: [], metadata: {}, spend: 1e-5 })
    await r.budgets.insert({ budgetId: 'tag-budget', maxBudget: 0.0001 })
    await r.tags.insert({ tagName: 'prod', models: [], budgetId: 'tag-budget', spend: 4.9999999999999996e-6 + 0.0001 })
    await r.budgets.insert({ budgetId: 'customer-budget', maxBudget: 10 })
    await r.endUsers.insert({ userId: 'big-customer', budgetId: 'customer-budget', metadata: {}, spend: 10 })
    await r.endUsers.insert({ userId: 'small-customer', metadata: {}, spend: 1e-6 })

    const cases: Array<[Parameters<typeof insertKey>[1], Record<string, unknown>, Record<string, string>, string, string]> = [
      [{ maxBudget: 100, spend: 100 }, {}, {}, 'key', 'Budget has been exceeded! Current cost: 100.0, Max budget: 100.0'],
      [{ modelMaxBudget: { llama3: { max_budget: 0.5 } }, modelSpend: { llama3: 0.5 } }, {}, {}, 'key_model', 'Budget has been exceeded! Current cost: 0.5, Max budget: 0.5'],
      [{ teamId: 'member-team', userId: 'member-user' }, {}, {}, 'team_member', 'Budget has been exceeded! User=member-user in Team=member-team Current cost: 2.5, Max budget: 2.0'],
      [{ userId: 'over-user' }, {}, {}, 'user', 'Budget has been exceeded! Current cost: 1.0, Max budget: 1.0'],
      [{ organizationId: 'org-over' }, {}, {}, 'organization', 'Budget has been exceeded! Organization=org-over Current cost: 1e-05, Max budget: 1e-05'],
      [{}, { user: 'big-customer' }, {}, 'end_user', 'Budget has been exceeded! Current cost: 10.0, Max budget: 10.0'],
      [{}, { user: 'small-customer' }, {}, 'end_user', 'Budget has been exceeded! Current cost: 1e-06, Max budget: 1e-06'],
      [{}, {}, { 'x-litellm-tags': 'prod' }, 'tag', 'Budget has been exceeded! Tag=prod Current cost: 0.000105, Max budget: 0.0001'],
      // Both the key and the user are over: the key, first in the table, is named.
      [{ userId: 'over-user', maxBudget: 3, spend: 4 }, {}, {}, 'key', 'Budget has been exceeded! Current cost: 4.0, Max budget: 3.0'],
    ]
    for (const [fields, body, headers, scope, message] of cases) {
      const { key } = await insertKey(r, fields)
      const response = await g.chatAs(key, body, headers)
      expect(refusal(response)).toEqual({ status: 400, type: 'auth_error', message, scope })
    }
    expect(g.upstream.requests).toHaveLength(0)
  })

  test('skip_user_budget_on_team_key is off by default: the user budget applies on team keys too', async () => {
    const r = repos()
    await insertUser(r, { userId: 'capped-user', maxBudget: 1e-9 })
    await insertTeam(r, { teamId: 'open-team' })
    await r.memberships.insert({ teamId: 'open-team', userId: 'capped-user', role: 'user' })
    const { key } = await insertKey(r, { teamId: 'open-team', userId: 'capped-user' })
    expect((await g.chatAs(key)).status).toBe(200)
    expect(refusal(await g.chatAs(key))).toMatchObject({ status: 400, scope: 'user' })
  })

  test('free models skip budgets; unpriced models are refused for budgeted principals and served to others', async () => {
    const { key } = await insertKey(repos(), { maxBudget: 1, spend: 1 })
    expect((await g.chatAs(key, { model: 'free-model' })).status).toBe(200)
    const unpriced = await g.chatAs(key, { model: 'mystery' })
    expect([unpriced.status, unpriced.body.error.type, unpriced.body.error.message]).toEqual([
      400,
      'invalid_request_error',
      'Model mystery has no price configured (input_cost_per_token/output_cost_per_token); refusing because a budget applies',
    ])
    const { key: open } = await insertKey(repos())
    expect((await g.chatAs(open, { model: 'mystery' })).status).toBe(200)
    // Counted once, when it settles, under the upstream model's name.
    const metrics = await g.gateway.context.metrics.registry.metrics()
    expect(metrics).toContain('tollgate_unpriced_requests_total{model="not-a-known-model"} 1')
  })

  test('a soft budget never refuses; crossing it logs, counts and posts a WebhookEvent once per window', async () => {
    const r = repos()
    await insertTeam(r, { teamId: 'soft-team', teamAlias: 'Soft', softBudget: 5e-6 })
    const { key } = await insertKey(r, { teamId: 'soft-team' })
    for (let i = 0; i < 3; i++) expect((await g.chatAs(key)).status).toBe(200)
    await Bun.sleep(50)
    expect(webhook).toHaveLength(1)
    expect(webhook[0]).toMatchObject({
      event: 'soft_budget_crossed',
      event_group: 'team',
      spend: 2 * SEED_COST,
      soft_budget: 5e-6,
      max_budget: null,
      team_id: 'soft-team',
      team_alias: 'Soft',
    })
    expect(await g.gateway.context.metrics.registry.metrics()).toContain('tollgate_soft_budget_crossed_total{level="team"} 1')
    expect(g.gateway.log.lines.some((line) => line.message === 'soft budget crossed' && line.id === 'soft-team')).toBe(true)
  })

  test('a request that would wait longer than budget_wait_timeout gets 429 with Retry-After 1', async () => {
    // Spend 0 is far below the cap, but the in-flight request's estimate (≈ 4.1e-4) is not.
    const { key, row } = await insertKey(repos(), { maxBudget: 3e-4 })
    g.upstream.enqueue({ kind: 'delay', ms: 600 })
    const slow = g.chatAs(key)
    await Bun.sleep(100)
    const waiting = await g.chatAs(key)
    expect(waiting.status).toBe(429)
    expect(waiting.body.error).toEqual({ message: `Budget admission timed out for key: ${row.token}; requests in flight`, type: 'rate_limit_error', param: null, code: 429 })
    expect(waiting.headers.get('retry-after')).toBe('1')
    expect((await slow).status).toBe(200)
    // Once the first settled, the committed spend is far below the cap: admitted again.
    expect((await g.chatAs(key)).status).toBe(200)
  })

  test('a waiting request is admitted as soon as the in-flight request it waited for settles', async () => {
    // The default estimate (10 prompt tokens + 4096 output tokens ≈ 4.1e-4) exceeds the cap: one at a time.
    const { key } = await insertKey(repos(), { maxBudget: 3e-4 })
    g.upstream.enqueue({ kind: 'delay', ms: 100 })
    const first = g.chatAs(key)
    await Bun.sleep(30)
    const started = performance.now()
    const second = await g.chatAs(key)
    expect(second.status).toBe(200)
    // Woken by the settlement, not by the once-a-second re-check.
    expect(performance.now() - started).toBeLessThan(600)
    expect((await first).status).toBe(200)
    const histogram = await g.gateway.context.metrics.registry.getSingleMetricAsString('tollgate_budget_wait_seconds')
    expect(histogram).toMatch(/tollgate_budget_wait_seconds_count [1-9]/)
  })

  test('the master key and unbudgeted keys are not held at all', async () => {
    const { key } = await insertKey(repos())
    expect((await g.chatAs(key)).status).toBe(200)
    expect((await g.chatAs(MASTER_KEY)).status).toBe(200)
  })
})

describeEachEngine('strict budget enforcement', (engine) => {
  let g: BudgetGateway
  beforeAll(async () => {
    g = await startBudgetGateway(engine, { general_settings: { budget_enforcement: 'strict' } })
  })
  afterAll(() => g.close())
  beforeEach(() => g.upstream.reset())

  test('the forwarded request always carries max_tokens; it is capped to fit, with x-tollgate-max-tokens-capped', async () => {
    const { key } = await insertKey(g.gateway.store.repos, { maxBudget: 1 })
    expect((await g.chatAs(key)).status).toBe(200)
    expect(g.upstream.requests[0].body.max_tokens).toBe(4096)
    expect((await g.chatAs(key, { max_completion_tokens: 20 })).status).toBe(200)
    expect(g.upstream.requests[1].body).toMatchObject({ max_completion_tokens: 20 })

    // 10 prompt tokens at 3e-7 plus n output tokens at 1e-7 must fit 1.3e-5: n = 100.
    const { key: small } = await insertKey(g.gateway.store.repos, { maxBudget: 1.3e-5 })
    const capped = await g.chatAs(small, { max_tokens: 1000 })
    expect(capped.status).toBe(200)
    expect(capped.headers.get('x-tollgate-max-tokens-capped')).toMatch(/^(99|100)$/)
    expect(g.upstream.requests[2].body.max_tokens).toBe(Number(capped.headers.get('x-tollgate-max-tokens-capped')))
  })

  test('not one output token fits: refused with the committed spend', async () => {
    const { key } = await insertKey(g.gateway.store.repos, { maxBudget: 3.05e-6, spend: 0 })
    const response = await g.chatAs(key)
    expect(response.status).toBe(400)
    expect(response.body.error.message).toBe('Budget has been exceeded! Current cost: 0.0, Max budget: 3.05e-06')
  })
})
