import { afterAll, beforeAll, expect, test } from 'bun:test'
import { SEED_COST, startBudgetGateway, type BudgetGateway } from '../../../test/budget-gateway'
import { describeEachEngine } from '../../../test/engines'
import { createBudgetSweeper } from './sweeper'

const DAY = 86_400_000
/** `formatTimestamp` of a moment: six fractional digits. */
const stamp = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z')

describeEachEngine('budget windows and resets', (engine) => {
  let g: BudgetGateway
  beforeAll(async () => {
    g = await startBudgetGateway(engine, { litellm_settings: { max_budget: 1, budget_duration: '1d' } })
  })
  afterAll(() => g.close())

  const post = async (path: string, body: unknown) => {
    const response = await g.gateway.call('POST', path, { body })
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${response.text}`)
    return response.body
  }
  const get = async (path: string) => (await g.gateway.call('GET', path)).body

  test("every level's window turns over on the sweeper's next tick: key, member, user, organization, end user, tag, global", async () => {
    const org = await post('/organization/new', { organization_alias: 'Nightly', max_budget: 1, budget_duration: '1d' })
    const team = await post('/team/new', { team_alias: 'Monthly', organization_id: org.organization_id, max_budget: 1, budget_duration: '30d' })
    await post('/team/member_add', { team_id: team.team_id, member: { user_id: 'w-user', role: 'user' }, max_budget_in_team: 1, budget_duration: '1d' })
    await post('/user/update', { user_id: 'w-user', max_budget: 1, budget_duration: '1d' })
    const key = await post('/key/generate', { team_id: team.team_id, user_id: 'w-user', max_budget: 1, budget_duration: '1d' })
    await post('/customer/new', { user_id: 'w-customer', max_budget: 1, budget_duration: '1d' })
    await post('/tag/new', { name: 'w-tag', max_budget: 1, budget_duration: '1d' })

    expect((await g.chatAs(key.key, { user: 'w-customer' }, { 'x-litellm-tags': 'w-tag' })).status).toBe(200)
    await g.flush()
    const { repos } = g.gateway.store
    const spends = async () => ({
      key: (await repos.keys.get(key.token))!.spend,
      team: (await repos.teams.get(team.team_id))!.spend,
      member: (await repos.memberships.get({ teamId: team.team_id, userId: 'w-user' }))!.spend,
      user: (await repos.users.get('w-user'))!.spend,
      organization: (await repos.organizations.get(org.organization_id))!.spend,
      endUser: (await repos.endUsers.get('w-customer'))!.spend,
      tag: (await repos.tags.get('w-tag'))!.spend,
      global: (await repos.users.get('litellm-proxy-budget'))!.spend,
    })
    expect(Object.values(await spends())).toEqual(Array(8).fill(SEED_COST))

    g.clock.advance(DAY)
    const tick = await g.sweep()
    expect(tick).toMatchObject({ leader: true, failed: 0 })
    expect(await spends()).toEqual({ key: 0, team: SEED_COST, member: 0, user: 0, organization: 0, endUser: 0, tag: 0, global: 0 })
    const next = g.clock.now() + DAY
    expect((await repos.keys.get(key.token))!.budgetResetAt!.getTime()).toBe(next)
    expect((await repos.users.get('litellm-proxy-budget'))!.budgetResetAt!.getTime()).toBe(next)
    expect((await repos.budgets.get(org.budget_id))!.budgetResetAt!.getTime()).toBe(next)
    expect((await g.sweep()).reset).toBe(0)

    // Another instance's sweeper is not the leader while this one holds the lease.
    const other = createBudgetSweeper({ repos, resets: { reset: async () => true }, clock: g.clock, log: g.gateway.log, holder: 'another-instance', intervalMs: 1000 })
    expect(await other.runOnce()).toEqual({ leader: false, reset: 0, failed: 0 })
  })

  test('a member without a window of their own follows the team: both reset together, lazily at admission', async () => {
    const team = await post('/team/new', { max_budget: 1e-9, budget_duration: '1d' })
    await post('/team/member_add', { team_id: team.team_id, member: { user_id: 'follower', role: 'user' }, max_budget_in_team: 1 })
    const key = await post('/key/generate', { team_id: team.team_id, user_id: 'follower' })
    expect((await g.chatAs(key.key)).status).toBe(200)
    expect((await g.chatAs(key.key)).status).toBe(400)
    g.clock.advance(DAY)
    // No sweep: the admission turns the window over itself.
    expect((await g.chatAs(key.key)).status).toBe(200)
    await g.flush()
    const { repos } = g.gateway.store
    expect((await repos.teams.get(team.team_id))!).toMatchObject({ spend: SEED_COST, budgetResetAt: new Date(g.clock.now() + DAY) })
    expect((await repos.memberships.get({ teamId: team.team_id, userId: 'follower' }))!.spend).toBe(SEED_COST)
    // The spend recorded in the new window is never erased: the old window's end no longer matches (CAS).
    await g.sweep()
    expect(await repos.teams.resetWindow(team.team_id, new Date(g.clock.now()), new Date(g.clock.now() + DAY))).toBe(false)
    expect((await repos.teams.get(team.team_id))!.spend).toBe(SEED_COST)
  })

  test('calendar months clamp to the end of the month, and each reset starts the next window from the reset moment', async () => {
    g.clock.set(Date.UTC(2026, 0, 31, 12))
    const team = await post('/team/new', { max_budget: 1e-9, budget_duration: '1mo' })
    expect(team.budget_reset_at).toBe('2026-02-28T12:00:00.000000Z')
    const key = await post('/key/generate', { team_id: team.team_id })
    expect((await g.chatAs(key.key)).status).toBe(200)
    expect((await g.chatAs(key.key)).status).toBe(400)
    g.clock.set(Date.UTC(2026, 1, 28, 12))
    expect((await g.chatAs(key.key)).status).toBe(200)
    const info = await get(`/team/info?team_id=${team.team_id}`)
    expect(info.team_info).toMatchObject({ budget_reset_at: '2026-03-28T12:00:00.000000Z', spend: SEED_COST })
  })

  test('30-day key windows: management reads show the current window, turning an ended one over themselves', async () => {
    const key = await post('/key/generate', { max_budget: 10, budget_duration: '30d' })
    const created = g.clock.now()
    expect(key.budget_reset_at).toBe(stamp(created + 30 * DAY))
    await post('/customer/new', { user_id: 'r-customer', max_budget: 1, budget_duration: '30d' })
    await post('/tag/new', { name: 'r-tag', max_budget: 1, budget_duration: '30d' })
    expect((await g.chatAs(key.key, { user: 'r-customer' }, { 'x-litellm-tags': 'r-tag' })).status).toBe(200)
    // Not flushed yet: reads add this instance's unflushed spend.
    expect((await get(`/key/info?key=${key.key}`)).info.spend).toBe(SEED_COST)
    expect((await get('/customer/info?end_user_id=r-customer')).spend).toBe(SEED_COST)
    expect((await post('/tag/info', { names: ['r-tag'] }))['r-tag'].spend).toBe(SEED_COST)

    g.clock.advance(30 * DAY)
    const info = (await get(`/key/info?key=${key.key}`)).info
    expect(info).toMatchObject({ spend: 0, budget_reset_at: stamp(g.clock.now() + 30 * DAY) })
    expect((await get('/customer/info?end_user_id=r-customer')).spend).toBe(0)
    expect((await post('/tag/info', { names: ['r-tag'] }))['r-tag'].spend).toBe(0)
    await g.sweep()
    expect((await get(`/key/info?key=${key.key}`)).info.budget_reset_at).toBe(info.budget_reset_at)
  })

  test('/key/{key}/reset_spend and /global/spend/reset: the counters follow the database', async () => {
    const key = await post('/key/generate', { max_budget: 1e-9 })
    expect((await g.chatAs(key.key)).status).toBe(200)
    expect((await g.chatAs(key.key)).status).toBe(400)
    const reset = await post(`/key/${key.key}/reset_spend`, { reset_to: 0 })
    expect(reset).toMatchObject({ spend: 0, previous_spend: SEED_COST })
    expect((await g.chatAs(key.key)).status).toBe(200)
    expect((await g.chatAs(key.key)).status).toBe(400)

    const team = await post('/team/new', { max_budget: 1e-9 })
    const teamKey = await post('/key/generate', { team_id: team.team_id })
    expect((await g.chatAs(teamKey.key)).status).toBe(200)
    expect((await g.chatAs(teamKey.key)).status).toBe(400)
    await post('/global/spend/reset', {})
    expect((await g.chatAs(teamKey.key)).status).toBe(200)
    expect((await g.chatAs(key.key)).status).toBe(200)
  })

  test('the global proxy budget refuses every request once spent, and turns over with its window', async () => {
    const key = await post('/key/generate', {})
    const { repos } = g.gateway.store
    await g.flush()
    await repos.users.update('litellm-proxy-budget', { spend: 1 })
    g.gateway.context.invalidator.publish({ kind: 'users', id: 'litellm-proxy-budget' })
    const refused = await g.chatAs(key.key)
    expect([refused.status, refused.body.error.message, refused.headers.get('x-tollgate-budget-scope')]).toEqual([
      400,
      'Budget has been exceeded! Current cost: 1.0, Max budget: 1.0',
      'proxy',
    ])
    g.clock.advance(DAY)
    await g.sweep()
    expect((await g.chatAs(key.key)).status).toBe(200)
  })
})
