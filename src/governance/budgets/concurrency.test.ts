import { afterAll, beforeAll, expect, test } from 'bun:test'
import { SEED_COST, startBudgetGateway, type BudgetGateway } from '../../../test/budget-gateway'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam } from '../../../test/fixtures'

/** A team budget that buys exactly 10 of the fake upstream's chats. */
const BUDGET = 10 * SEED_COST
const REQUESTS = 60

async function burst(g: BudgetGateway, teamId: string, extra: Record<string, unknown> = {}) {
  const { repos } = g.gateway.store
  await insertTeam(repos, { teamId, maxBudget: BUDGET })
  const { key } = await insertKey(repos, { teamId })
  const responses = await Promise.all(Array.from({ length: REQUESTS }, () => g.chatAs(key, extra)))
  await g.flush()
  const spend = (await repos.teams.get(teamId))!.spend
  const statuses = responses.map((r) => r.status)
  const refusals = responses.filter((r) => r.status !== 200).map((r) => [r.status, r.headers.get('x-tollgate-budget-scope')])
  return { spend, served: statuses.filter((s) => s === 200).length, refusals }
}

describeEachEngine('budgets under concurrency (default mode)', (engine) => {
  let g: BudgetGateway
  beforeAll(async () => {
    g = await startBudgetGateway(engine)
    g.upstream.defaultBehavior = { kind: 'delay', ms: 40 }
  })
  afterAll(() => g.close())

  test('60 concurrent requests against a budget that buys 10: spend ends at most one request above it', async () => {
    const { spend, served, refusals } = await burst(g, 'burst-default')
    expect(spend).toBeLessThanOrEqual(BUDGET + SEED_COST)
    expect(spend).toBeGreaterThanOrEqual(BUDGET)
    expect(served).toBe(Math.round(spend / SEED_COST))
    // Every other request waited (holding nothing) and was refused once the budget was spent: none timed out.
    expect(refusals).toEqual(Array(REQUESTS - served).fill([400, 'team']))
    expect(g.upstream.requests.length).toBe(served)
  }, 30_000)

  test('with max_tokens bounding the estimate, requests run in parallel up to the budget, and still stop there', async () => {
    g.upstream.reset()
    g.upstream.defaultBehavior = { kind: 'delay', ms: 40 }
    const { spend, served } = await burst(g, 'burst-bounded', { max_tokens: 5 })
    expect(spend).toBeLessThanOrEqual(BUDGET + SEED_COST)
    expect(served).toBeGreaterThanOrEqual(10)
    expect(served).toBeLessThanOrEqual(11)
    // Bounded estimates let the first ten through together: far faster than one at a time.
    expect(Math.max(...g.upstream.requests.slice(0, 10).map((r) => r.receivedAt)) - g.upstream.requests[0].receivedAt).toBeLessThan(200)
  }, 30_000)
})

describeEachEngine('budgets under concurrency (strict mode)', (engine) => {
  let g: BudgetGateway
  beforeAll(async () => {
    g = await startBudgetGateway(engine, { general_settings: { budget_enforcement: 'strict' } })
    g.upstream.defaultBehavior = { kind: 'delay', ms: 40 }
  })
  afterAll(() => g.close())

  test('60 concurrent requests against a budget that buys 10: spend never exceeds it', async () => {
    const { spend, served, refusals } = await burst(g, 'burst-strict')
    expect(spend).toBeLessThanOrEqual(BUDGET)
    expect(served).toBe(10)
    expect(refusals).toEqual(Array(REQUESTS - 10).fill([400, 'team']))
    // Every forwarded request carried the output bound its reservation was made for.
    expect(g.upstream.requests.every((r) => Number.isInteger(r.body.max_tokens) && r.body.max_tokens >= 1)).toBe(true)
  }, 30_000)
})
