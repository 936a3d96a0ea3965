/**
 * Redis going away and coming back, seen from two whole instances (AppContexts): limits stay enforced per
 * instance during the outage, with a warning and tollgate_redis_errors_total, and are shared again afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sqliteEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { eventually, redisServerAvailable, startPrivateRedis, type PrivateRedis } from '../../../test/redis-server'
import { ApiError } from '../../http/errors'
import { ManualClock } from '../../lib/clock'
import { newId } from '../../lib/ids'
import { createMemoryLogger } from '../../lib/logger'
import { RedisConnection } from '../../redis/connection'
import { FailoverCounterStore } from './failover-store'
import type { LevelLimit } from './levels'
import { MemoryCounterStore } from './memory-store'
import { RedisCounterStore } from './redis-store'

const keyLevel = (rpm: number): LevelLimit => ({ level: 'api_key', id: newId(), rpm, tpm: null, maxParallel: null })

async function admitted(gateway: TestGateway, level: LevelLimit): Promise<boolean> {
  try {
    await gateway.context.rateLimiter.admit([level])
    return true
  } catch (error) {
    if (error instanceof ApiError && error.httpStatus === 429) return false
    throw error
  }
}

async function redisErrors(gateway: TestGateway): Promise<number> {
  return (await gateway.context.metrics.redisErrors.get()).values[0]?.value ?? 0
}

const logged = (gateway: TestGateway, text: string) => gateway.log.lines.some((line) => String(line.message).includes(text))

describe.skipIf(!redisServerAvailable)('rate limits when Redis goes away and comes back', () => {
  let redis: PrivateRedis
  let a: TestGateway
  let b: TestGateway
  beforeAll(async () => {
    redis = await startPrivateRedis()
    a = await startGateway(sqliteEngine, { env: { REDIS_URL: redis.url, EXPERIMENTAL_MULTI_INSTANCE_RATE_LIMITING: 'true' } })
    b = await startGateway(sqliteEngine, { env: { REDIS_URL: redis.url }, clock: a.clock })
  })
  afterAll(async () => {
    await a.close()
    await b.close()
    await redis.close()
  })

  test('with Redis up, two instances share one limit', async () => {
    const key = keyLevel(4)
    const results = await Promise.all([a, b, a, b, a, b].map((gateway) => admitted(gateway, key)))
    expect(results.filter(Boolean).length).toBe(4)
    expect(await redisErrors(a)).toBe(0)
  })

  test('Redis stopped: both keep serving with per-instance limits, with a warning and tollgate_redis_errors_total', async () => {
    await a.context.counters.seedFloat({ scope: 'team:t1', window: 'w1' }, 1)
    await redis.stop({ keepData: true })
    const key = keyLevel(2)
    // Whether the loss is noticed by the closed socket or by the first failed command, nothing fails.
    expect([await admitted(a, key), await admitted(a, key), await admitted(a, key)]).toEqual([true, true, false])
    expect([await admitted(b, key), await admitted(b, key), await admitted(b, key)]).toEqual([true, true, false])
    expect(await redisErrors(a)).toBeGreaterThanOrEqual(1)
    expect(await redisErrors(b)).toBeGreaterThanOrEqual(1)
    expect(logged(a, 'Redis unreachable (counters); rate limits and budget counters are counted per instance until it answers')).toBe(true)

    // Budget counters fall back too: unseeded locally, so the caller seeds from the database and adds.
    const budget = { scope: 'team:t1', window: 'w1' }
    expect(await a.context.counters.incrementFloat(budget, 0.5)).toBeNull()
    await a.context.counters.seedFloat(budget, 1)
    expect(await a.context.counters.incrementFloat(budget, 0.5)).toBe(1.5)
  })

  test('Redis back: counting is shared again, and budget increments made meanwhile reach Redis', async () => {
    await redis.start()
    expect(await eventually(() => logged(a, 'Redis reachable again (counters)') && logged(b, 'Redis reachable again (counters)'), 5000)).toBe(true)
    const key = keyLevel(3)
    const results = await Promise.all([a, b, a, b, a, b].map((gateway) => admitted(gateway, key)))
    expect(results.filter(Boolean).length).toBe(3)
    expect(await eventually(async () => (await b.context.counters.getFloat({ scope: 'team:t1', window: 'w1' })) === 1.5)).toBe(true)
  })
})

describe('an unreachable Redis at start', () => {
  let gateway: TestGateway
  beforeAll(async () => {
    gateway = await startGateway(sqliteEngine, { env: { REDIS_URL: 'redis://127.0.0.1:1' } })
  })
  afterAll(() => gateway.close())

  test('is a warning and local counting, not a crash', async () => {
    expect(logged(gateway, 'Redis unreachable (counters)')).toBe(true)
    expect(gateway.log.lines.find((line) => String(line.message).startsWith('Redis unreachable'))?.redis).toBe('redis://127.0.0.1:1')
    const key = keyLevel(1)
    expect([await admitted(gateway, key), await admitted(gateway, key)]).toEqual([true, false])
    expect(await redisErrors(gateway)).toBe(1)
  })
})

describe.skipIf(!redisServerAvailable)('a Redis that hangs instead of closing', () => {
  test('a command that gets no answer falls back after the command timeout, and Redis is used again once it answers', async () => {
    const redis = await startPrivateRedis()
    const log = createMemoryLogger()
    let errors = 0
    const clock = new ManualClock()
    const connection = new RedisConnection({
      url: redis.url,
      log,
      errors: { inc: () => void errors++ },
      role: 'counters',
      whileDown: 'counted per instance',
      commandTimeoutMs: 100,
      retryMs: 50,
    })
    try {
      await connection.start()
      const store = new FailoverCounterStore(new RedisCounterStore(connection, clock), new MemoryCounterStore(clock), connection, log)
      const key = keyLevel(1)
      const lease = { id: 'lease', expiresAtMs: clock.now() + 1000 }
      expect((await store.admit([key], lease)).decision.admitted).toBe(true)
      redis.pause()
      const started = performance.now()
      // Shared count is 1 (limit reached), but Redis does not answer: the local count admits.
      expect((await store.admit([key], lease)).decision.admitted).toBe(true)
      expect(performance.now() - started).toBeLessThan(1000)
      expect([connection.up, errors]).toEqual([false, 1])
      redis.resume()
      expect(await eventually(() => connection.up, 5000)).toBe(true)
      expect((await store.admit([key], lease)).decision.admitted).toBe(false)
    } finally {
      await connection.stop()
      await redis.close()
    }
  })
})
