/**
 * Two instances (AppContexts) on one Postgres database: budgets spent through one are enforced on the other —
 * without Redis by re-reading the database value at most a second old, with Redis through shared counters (and,
 * in strict mode, shared reservations).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApp } from '../src/app'
import { createAppContext, type AppContext } from '../src/app-context'
import { settingsFromObject } from '../src/config/load'
import type { Database } from '../src/db/database'
import { openDatabase } from '../src/db/open'
import { ManualClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/logger'
import { budgetModels, SEED_COST } from './budget-gateway'
import { createMigratedDatabase } from './database'
import { describePostgres, postgresEngine, type TestDatabase } from './engines'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { insertKey, insertTeam } from './fixtures'
import { MASTER_KEY } from './gateway'
import { chat } from './proxy-gateway'
import { redisServerAvailable, startPrivateRedis, type PrivateRedis } from './redis-server'

type Instance = { context: AppContext; database: Database; chat(key: string, extra?: Record<string, unknown>): Promise<Response> }

async function startInstance(url: string, clock: ManualClock, upstream: FakeUpstream, config: Record<string, any>, env: Record<string, string>): Promise<Instance> {
  const database = await openDatabase(url, { poolSize: 4 })
  const settings = settingsFromObject({ ...config, model_list: budgetModels(upstream), general_settings: { master_key: MASTER_KEY, ...config.general_settings } }, env)
  const context = await createAppContext({ settings, database, clock, log: silentLogger })
  await context.lifecycle.start()
  const app = createApp(context)
  return {
    context,
    database,
    chat: (key, extra = {}) =>
      app.handle(
        new Request('http://localhost/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(chat('llama3', extra)),
        }),
      ),
  }
}

function useTwoInstances(config: Record<string, any>, env: () => Record<string, string>) {
  const state = {} as { a: Instance; b: Instance; clock: ManualClock; upstream: FakeUpstream }
  let target: TestDatabase
  beforeAll(async () => {
    target = await createMigratedDatabase(postgresEngine)
    state.clock = new ManualClock()
    state.upstream = await startFakeUpstream()
    state.a = await startInstance(target.url, state.clock, state.upstream, config, env())
    state.b = await startInstance(target.url, state.clock, state.upstream, config, env())
  })
  afterAll(async () => {
    for (const instance of [state.a, state.b]) {
      await instance.context.lifecycle.stop()
      await instance.database.close()
    }
    await state.upstream.stop()
    await target.drop()
  })
  return state
}

async function teamKey(instance: Instance, teamId: string, maxBudget: number): Promise<string> {
  await insertTeam(instance.context.repos, { teamId, maxBudget })
  return (await insertKey(instance.context.repos, { teamId })).key
}

/** 60 concurrent chats alternating between A and B (slow upstream) against a team budget that buys 10. */
async function burstOverBoth(s: { a: Instance; b: Instance; upstream: FakeUpstream }, teamId: string) {
  s.upstream.defaultBehavior = { kind: 'delay', ms: 30 }
  const key = await teamKey(s.a, teamId, 10 * SEED_COST)
  const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? s.a : s.b).chat(key)))
  await Promise.all([s.a.context.spend.flush(), s.b.context.spend.flush()])
  s.upstream.defaultBehavior = null
  return { spend: (await s.a.context.repos.teams.get(teamId))!.spend, statuses: responses.map((r) => r.status) }
}

describePostgres('budgets across instances without Redis', () => {
  const s = useTwoInstances({}, () => ({}))

  test('a team budget spent through A is refused on B, with the spend A wrote', async () => {
    const key = await teamKey(s.a, 'team-no-redis', 1e-9)
    expect((await s.a.chat(key)).status).toBe(200)
    await s.a.context.spend.flush()
    const refused = await s.b.chat(key)
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as any).error.message).toBe('Budget has been exceeded! Current cost: 3.5e-06, Max budget: 1e-09')
  })

  test("B re-reads the database value at most a second old: A's spend counts on B once a second has passed", async () => {
    const key = await teamKey(s.a, 'team-stale', 2 * SEED_COST)
    expect((await s.b.chat(key)).status).toBe(200)
    await s.b.context.spend.flush()
    expect((await s.a.chat(key)).status).toBe(200)
    await s.a.context.spend.flush()
    // B's counter (its own request) is younger than a second: it does not hold A's request yet.
    const counter = { scope: 'team:team-stale', window: 'lifetime' }
    expect(await s.b.context.counters.getFloat(counter)).toBe(SEED_COST)
    s.clock.advance(1000)
    expect(await s.b.context.counters.getFloat(counter)).toBeNull()
    const refused = await s.b.chat(key)
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as any).error.message).toBe('Budget has been exceeded! Current cost: 7e-06, Max budget: 7e-06')
  })

  test('only one instance sweeps (the lease), and the window turns over once', async () => {
    await insertTeam(s.a.context.repos, { teamId: 'team-window', maxBudget: 1, spend: 1, budgetDuration: '1d', budgetResetAt: new Date(s.clock.now() + 1000) })
    s.clock.advance(1000)
    const ticks = await Promise.all([s.a.context.budgets.sweeper.runOnce(), s.b.context.budgets.sweeper.runOnce()])
    expect(ticks.filter((tick) => tick.leader)).toHaveLength(1)
    const team = (await s.a.context.repos.teams.get('team-window'))!
    expect(team.spend).toBe(0)
    expect(team.budgetResetAt!.getTime()).toBe(s.clock.now() + 86_400_000)
  })
})

if (redisServerAvailable) {
  let redis: PrivateRedis
  describe('budgets across instances with Redis', () => {
    beforeAll(async () => {
      redis = await startPrivateRedis()
    })
    afterAll(() => redis.close())

    describePostgres('default mode', () => {
      const s = useTwoInstances({}, () => ({ REDIS_URL: redis.url }))

      test('a team budget spent through A is refused on B at once, before anything is flushed', async () => {
        const key = await teamKey(s.a, 'team-redis', 1e-9)
        expect((await s.a.chat(key)).status).toBe(200)
        const refused = await s.b.chat(key)
        expect(refused.status).toBe(400)
        expect(((await refused.json()) as any).error.message).toBe('Budget has been exceeded! Current cost: 3.5e-06, Max budget: 1e-09')
      })

      test('60 concurrent requests over two instances: at most one request per instance above the budget', async () => {
        const { spend, statuses } = await burstOverBoth(s, 'team-redis-burst')
        expect(spend).toBeLessThanOrEqual(10 * SEED_COST + 2 * SEED_COST)
        expect(statuses.filter((status) => status === 200).length).toBe(Math.round(spend / SEED_COST))
      }, 30_000)
    })

    describePostgres('strict mode', () => {
      const s = useTwoInstances({ general_settings: { budget_enforcement: 'strict' } }, () => ({ REDIS_URL: redis.url }))

      test('60 concurrent requests over two instances: shared reservations keep spend within the budget', async () => {
        const { spend, statuses } = await burstOverBoth(s, 'team-strict')
        expect(spend).toBeLessThanOrEqual(10 * SEED_COST)
        expect(statuses.filter((status) => status === 200)).toHaveLength(10)
        expect(new Set(statuses.filter((status) => status !== 200))).toEqual(new Set([400]))
      }, 30_000)
    })
  })
}
