/**
 * One suite, run against both counter stores (in-memory and Redis): the same requests must get the same
 * answers whether one instance counts or Redis does. The Redis half uses a private redis-server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { redisServerAvailable, startPrivateRedis, type PrivateRedis } from '../../../test/redis-server'
import type { BudgetRow, KeyRow, TeamRow } from '../../db/ports'
import { ApiError } from '../../http/errors'
import { ManualClock } from '../../lib/clock'
import { newId } from '../../lib/ids'
import { silentLogger } from '../../lib/logger'
import { RedisConnection } from '../../redis/connection'
import type { LevelLimit, TokenRateLimitType } from './levels'
import { RateLimiter } from './limiter'
import { MemoryCounterStore } from './memory-store'
import { RedisCounterStore } from './redis-store'
import type { CounterStore } from './store'
import { limitLevels, type LimitSnapshots } from './subject'

const START = Date.UTC(2026, 0, 15, 12, 0, 0)
const LEASE_TTL_MS = 660_000

type Harness = { store(clock: ManualClock): Promise<CounterStore>; close(): Promise<void> }

function memoryHarness(): Harness {
  return { store: async (clock) => new MemoryCounterStore(clock), close: async () => {} }
}

async function redisHarness(): Promise<Harness & { redis: PrivateRedis }> {
  const redis = await startPrivateRedis()
  const connections: RedisConnection[] = []
  return {
    redis,
    async store(clock) {
      const connection = new RedisConnection({ url: redis.url, log: silentLogger, errors: { inc() {} }, role: 'counters', whileDown: 'local' })
      await connection.start()
      connections.push(connection)
      return new RedisCounterStore(connection, clock)
    },
    async close() {
      for (const connection of connections) await connection.stop()
      await redis.close()
    },
  }
}

function limiterOn(store: CounterStore, clock: ManualClock, tokenRateLimitType: TokenRateLimitType = 'total') {
  return new RateLimiter({ store, clock, log: silentLogger, tokenRateLimitType, globalMaxParallel: null, leaseTtlMs: LEASE_TTL_MS })
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
  throw new Error('expected a 429 refusal, but the request was admitted')
}

const row = <T>(fields: Partial<T>) => fields as T
const snapshots = (fields: Partial<LimitSnapshots>): LimitSnapshots => ({
  keyHash: null,
  key: null,
  model: null,
  team: null,
  userId: null,
  user: null,
  memberBudget: null,
  teamMemberDefaults: null,
  endUserId: null,
  endUserBudget: null,
  organizationId: null,
  organizationBudget: null,
  ...fields,
})
const keyRow = (fields: Partial<KeyRow> = {}) => row<KeyRow>({ rpmLimit: null, tpmLimit: null, maxParallelRequests: null, metadata: {}, ...fields })
const teamRow = (fields: Partial<TeamRow> = {}) =>
  row<TeamRow>({ teamId: newId(), rpmLimit: null, tpmLimit: null, maxParallelRequests: null, ...fields })
const budgetRow = (fields: Partial<BudgetRow> = {}) => row<BudgetRow>({ rpmLimit: null, tpmLimit: null, ...fields })
const keyLevel = (fields: Partial<LevelLimit> = {}): LevelLimit => ({ level: 'api_key', id: newId(), rpm: null, tpm: null, maxParallel: null, ...fields })

function storeScenarios(name: string, open: () => Promise<Harness>) {
  describe(`rate limits on the ${name} store`, () => {
    let harness: Harness
    beforeAll(async () => {
      harness = await open()
    })
    afterAll(() => harness.close())

    const setup = async (type?: TokenRateLimitType) => {
      const clock = new ManualClock(START)
      const store = await harness.store(clock)
      return { clock, store, limiter: limiterOn(store, clock, type) }
    }

    test('a key with rpm 2: the third request in the window is refused with Retry-After, and admitted once it slides', async () => {
      const { clock, limiter } = await setup()
      const key = keyLevel({ rpm: 2 })
      const first = await limiter.admit([key])
      expect(first.headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1' })
      clock.advance(10_000)
      expect((await limiter.admit([key])).headers['x-ratelimit-remaining-requests']).toBe('0')
      clock.advance(10_000)
      const refused = await refusal(limiter.admit([key]))
      expect(refused.httpStatus).toBe(429)
      expect(refused.errorType).toBe('rate_limit_error')
      expect(refused.param).toBeNull()
      expect(refused.message).toBe(`Rate limit exceeded for api_key: ${key.id}. Limit type: rpm. Current limit: 2, Remaining: 0.`)
      expect(refused.headers).toEqual({ 'retry-after': '40', 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0' })
      clock.advance(39_000)
      expect((await refusal(limiter.admit([key]))).headers['retry-after']).toBe('1')
      clock.advance(1_000)
      expect((await limiter.admit([key])).headers['x-ratelimit-remaining-requests']).toBe('0')
    })

    test("a team's rpm is shared by all its keys", async () => {
      const { limiter } = await setup()
      const team = teamRow({ rpmLimit: 3 })
      const levelsOf = (hash: string) => limitLevels(snapshots({ keyHash: hash, key: keyRow(), team }), { keyMaxParallel: null })
      await limiter.admit(levelsOf('key-a'))
      await limiter.admit(levelsOf('key-a'))
      await limiter.admit(levelsOf('key-b'))
      const refused = await refusal(limiter.admit(levelsOf('key-b')))
      expect(refused.message).toBe(`Rate limit exceeded for team: ${team.teamId}. Limit type: rpm. Current limit: 3, Remaining: 0.`)
    })

    test('TPM counts settled tokens: the request that crosses the limit completes, the next one is refused', async () => {
      const { limiter } = await setup()
      const key = keyLevel({ tpm: 100 })
      const first = await limiter.admit([key])
      await first.settle({ promptTokens: 30, completionTokens: 50 })
      await first.settle({ promptTokens: 30, completionTokens: 50 }) // a second settle counts nothing
      const crossing = await limiter.admit([key])
      expect(crossing.headers['x-ratelimit-remaining-tokens']).toBe('20')
      await crossing.settle({ promptTokens: 40, completionTokens: 10 })
      const refused = await refusal(limiter.admit([key]))
      expect(refused.message).toBe(`Rate limit exceeded for api_key: ${key.id}. Limit type: tpm. Current limit: 100, Remaining: 0.`)
      expect(refused.headers).toEqual({ 'retry-after': '60', 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '0' })
    })

    test('token_rate_limit_type output counts only completion tokens', async () => {
      const { limiter } = await setup('output')
      const key = keyLevel({ tpm: 100 })
      await (await limiter.admit([key])).settle({ promptTokens: 5000, completionTokens: 99 })
      const next = await limiter.admit([key])
      expect(next.headers['x-ratelimit-remaining-tokens']).toBe('1')
    })

    test("team-member limits: the member's own row, else the team's default member row, per member", async () => {
      const { limiter } = await setup()
      const team = teamRow()
      const defaults = budgetRow({ rpmLimit: 1 })
      const levelsOf = (userId: string, memberBudget: BudgetRow | null) =>
        limitLevels(snapshots({ keyHash: `key-${userId}`, key: keyRow(), team, userId, memberBudget, teamMemberDefaults: defaults }), { keyMaxParallel: null })
      const alice = levelsOf('alice', budgetRow({ rpmLimit: 2 }))
      expect(alice.map((level) => [level.level, level.id, level.rpm])).toEqual([['team_member', `${team.teamId}:alice`, 2]])
      await limiter.admit(alice)
      await limiter.admit(alice)
      expect((await refusal(limiter.admit(alice))).message).toBe(
        `Rate limit exceeded for team_member: ${team.teamId}:alice. Limit type: rpm. Current limit: 2, Remaining: 0.`,
      )
      const bob = levelsOf('bob', null)
      await limiter.admit(bob)
      expect((await refusal(limiter.admit(bob))).message).toContain(`team_member: ${team.teamId}:bob. Limit type: rpm. Current limit: 1`)
    })

    test('max_parallel_requests: a slot is held until release, and releasing twice frees it once', async () => {
      const { limiter } = await setup()
      const key = keyLevel({ maxParallel: 2 })
      const first = await limiter.admit([key])
      const second = await limiter.admit([key])
      const refused = await refusal(limiter.admit([key]))
      expect(refused.message).toBe(`Rate limit exceeded for api_key: ${key.id}. Limit type: max_parallel_requests. Current limit: 2, Remaining: 0.`)
      expect(refused.headers['retry-after']).toBe('1')
      await first.release()
      await first.release()
      const third = await limiter.admit([key])
      await refusal(limiter.admit([key]))
      await Promise.all([second.release(), third.release()])
      await limiter.admit([key])
    })

    test('a refused request consumes nothing at any level: no request counted, no slot taken', async () => {
      const { limiter } = await setup()
      const key = keyLevel({ rpm: 2, maxParallel: 1 })
      const team = { level: 'team', id: newId(), rpm: 1, tpm: null, maxParallel: null } satisfies LevelLimit
      const admitted = await limiter.admit([key, team])
      await admitted.release()
      await refusal(limiter.admit([key, team]))
      // Had the refusal counted at the key, this would be its third request (refused) or find its slot taken.
      const keyOnly = await limiter.admit([key])
      expect(keyOnly.headers['x-ratelimit-remaining-requests']).toBe('0')
    })

    test('concurrent requests never pass a limit', async () => {
      const { limiter } = await setup()
      const key = keyLevel({ rpm: 4 })
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => limiter.admit([key])))
      expect(results.filter((result) => result.status === 'fulfilled').length).toBe(4)
    })

    test('budget float counters: unseeded is null, seeding keeps the first value, increments add exact doubles', async () => {
      const { store } = await setup()
      const key = { scope: `team:${newId()}`, window: '1768478400000' }
      expect(await store.getFloat(key)).toBeNull()
      expect(await store.incrementFloat(key, 1)).toBeNull()
      expect(await store.getFloat(key)).toBeNull()
      expect(await store.seedFloat(key, 3.5e-6, 3600)).toBe(3.5e-6)
      expect(await store.seedFloat(key, 99, 3600)).toBe(3.5e-6)
      expect(await store.incrementFloat(key, 1.5e-6)).toBe(3.5e-6 + 1.5e-6)
      expect(String(await store.getFloat(key))).toBe('0.0000049999999999999996')
      const other = { scope: key.scope, window: '1771156800000' }
      expect(await store.getFloat(other)).toBeNull()
      let sum = 0
      await store.seedFloat(other, 0)
      for (const cost of [1e-9, 3.5e-6, 0.1, 0.2, 1e-9]) {
        sum += cost
        expect(await store.incrementFloat(other, cost)).toBe(sum)
      }
    })

    test('budget float counters: deleting a scope drops every window of it (and, by prefix, of every scope under it)', async () => {
      const { store } = await setup()
      const team = `team:${newId()}`
      const twin = `${team}x`
      for (const window of ['1', '2']) await store.seedFloat({ scope: team, window }, 1, 3600)
      await store.seedFloat({ scope: twin, window: '1' }, 2, 3600)
      expect(await store.deleteFloats(team)).toBe(2)
      expect(await store.getFloat({ scope: team, window: '1' })).toBeNull()
      expect(await store.getFloat({ scope: twin, window: '1' })).toBe(2)
      await store.seedFloat({ scope: team, window: '3' }, 1, 3600)
      expect(await store.deleteFloats(team, { prefix: true })).toBe(2)
      expect(await store.getFloat({ scope: twin, window: '1' })).toBeNull()
    })
  })
}

storeScenarios('in-memory', async () => memoryHarness())

if (redisServerAvailable) {
  storeScenarios('Redis', redisHarness)

  describe('rate limits shared through Redis by several instances', () => {
    let harness: Awaited<ReturnType<typeof redisHarness>>
    beforeAll(async () => {
      harness = await redisHarness()
    })
    afterAll(() => harness.close())

    test('a key with rpm 4 gets exactly 4 admissions across two instances asking at once', async () => {
      const clock = new ManualClock(START)
      const a = limiterOn(await harness.store(clock), clock)
      const b = limiterOn(await harness.store(clock), clock)
      const key = keyLevel({ rpm: 4 })
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).admit([key])))
      expect(results.filter((result) => result.status === 'fulfilled').length).toBe(4)
    })

    test("tokens settled on one instance count on the other, and a team's slots are shared", async () => {
      const clock = new ManualClock(START)
      const a = limiterOn(await harness.store(clock), clock)
      const b = limiterOn(await harness.store(clock), clock)
      const team = { level: 'team', id: newId(), rpm: null, tpm: 50, maxParallel: 1 } satisfies LevelLimit
      const held = await a.admit([team])
      expect((await refusal(b.admit([team]))).message).toContain('Limit type: max_parallel_requests. Current limit: 1')
      await held.settle({ promptTokens: 25, completionTokens: 25 })
      await held.release()
      expect((await refusal(b.admit([team]))).message).toContain('Limit type: tpm. Current limit: 50')
    })

    test("a crashed instance's slot expires after the lease TTL (request timeout + 60 s)", async () => {
      const clock = new ManualClock(START)
      const crashed = limiterOn(await harness.store(clock), clock)
      const survivor = limiterOn(await harness.store(clock), clock)
      const key = keyLevel({ maxParallel: 1 })
      await crashed.admit([key]) // never released
      clock.advance(LEASE_TTL_MS - 1)
      await refusal(survivor.admit([key]))
      clock.advance(1)
      const ticket = await survivor.admit([key])
      await ticket.release()
    })

    test('window counters and budget counters expire on their own in Redis', async () => {
      const clock = new ManualClock(START)
      const store = await harness.store(clock)
      const key = keyLevel({ rpm: 10 })
      await limiterOn(store, clock).admit([key])
      const client = new Bun.RedisClient(harness.redis.url)
      const ttl = await client.send('TTL', [`tollgate:rl:api_key:${key.id}:requests`])
      expect(ttl).toBeGreaterThan(60)
      expect(ttl).toBeLessThanOrEqual(120)
      await store.seedFloat({ scope: 'key:x', window: 'w' }, 1, 90)
      expect(await client.send('TTL', ['tollgate:counter:key:x:w'])).toBeGreaterThan(80)
      client.close()
    })
  })
} else {
  test.skip('rate limits on the Redis store (redis-server is not installed)', () => {})
}
