/**
 * Two instances (AppContexts) on one Postgres database: a change published on A evicts on B within a second,
 * over LISTEN/NOTIFY without Redis and over Redis pub/sub with it; while the channel is down the caches live
 * 1 s, and when it recovers the configured TTL returns.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createMigratedDatabase } from '../../../test/database'
import { insertKey } from '../../../test/fixtures'
import { postgresEngine, describePostgres, type TestDatabase } from '../../../test/engines'
import { MASTER_KEY } from '../../../test/gateway'
import { eventually, redisServerAvailable, startPrivateRedis, type PrivateRedis } from '../../../test/redis-server'
import { createAppContext, type AppContext } from '../../app-context'
import { settingsFromObject } from '../../config/load'
import type { Database } from '../../db/database'
import { openDatabase } from '../../db/open'
import { ManualClock } from '../../lib/clock'
import { createMemoryLogger } from '../../lib/logger'

type Instance = { context: AppContext; database: Database; log: ReturnType<typeof createMemoryLogger> }

async function startInstance(url: string, clock: ManualClock, env: Record<string, string> = {}): Promise<Instance> {
  const database = await openDatabase(url, { poolSize: 2 })
  const log = createMemoryLogger()
  const settings = settingsFromObject({ general_settings: { master_key: MASTER_KEY } }, env)
  const context = await createAppContext({ settings, database, clock, log })
  await context.lifecycle.start()
  return { context, database, log }
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.context.lifecycle.stop()
  await instance.database.close()
}

/** Registers two instances on one fresh Postgres database for the enclosing describe. */
function useTwoInstances(env: () => Record<string, string>) {
  const instances = {} as { a: Instance; b: Instance; clock: ManualClock }
  let target: TestDatabase
  beforeAll(async () => {
    target = await createMigratedDatabase(postgresEngine)
    instances.clock = new ManualClock()
    instances.a = await startInstance(target.url, instances.clock, env())
    instances.b = await startInstance(target.url, instances.clock, env())
  })
  afterAll(async () => {
    await stopInstance(instances.a)
    await stopInstance(instances.b)
    await target.drop()
  })
  return instances
}

function evictionScenarios(title: string, env: () => Record<string, string>) {
  describe(title, () => {
    const instances = useTwoInstances(env)

    test('a key blocked through A is evicted on B within a second', async () => {
      const { a, b } = instances
      const { row } = await insertKey(a.context.repos)
      expect((await b.context.caches.keys.get(row.token))?.key.blocked).toBe(false)
      expect((await a.context.caches.keys.get(row.token))?.key.blocked).toBe(false)
      await a.context.repos.keys.update(row.token, { blocked: true })
      const sent = performance.now()
      await a.context.invalidator.publish({ kind: 'keys', id: row.token })
      expect(a.context.caches.keys.peek(row.token)).toBeUndefined()
      expect(await eventually(() => b.context.caches.keys.peek(row.token) === undefined, 1000)).toBe(true)
      expect(performance.now() - sent).toBeLessThan(1000)
      expect((await b.context.caches.keys.get(row.token))?.key.blocked).toBe(true)
      const lag = (await b.context.metrics.invalidationLagSeconds.get()).values[0]?.value
      expect(lag).toBeGreaterThanOrEqual(0)
      expect(lag).toBeLessThan(1)
    })

    test('every kind of cached entity travels, and other entries stay cached', async () => {
      const { a, b } = instances
      const { row: kept } = await insertKey(a.context.repos)
      await b.context.caches.keys.get(kept.token)
      await b.context.caches.teams.get('team-x')
      await a.context.invalidator.publish({ kind: 'teams', id: 'team-x' }, { kind: 'users', id: 'someone' })
      expect(await eventually(() => b.context.caches.teams.peek('team-x') === undefined, 1000)).toBe(true)
      expect(b.context.caches.keys.peek(kept.token)).not.toBeUndefined()
    })
  })
}

describePostgres('cache invalidation between instances', () => {
  evictionScenarios('over Postgres LISTEN/NOTIFY', () => ({}))
})

if (redisServerAvailable) {
  describePostgres('cache invalidation between instances with Redis', () => {
    let redis: PrivateRedis
    beforeAll(async () => {
      redis = await startPrivateRedis()
    })
    afterAll(() => redis.close())
    evictionScenarios('over Redis pub/sub', () => ({ REDIS_URL: redis.url }))

    describe('while the channel is down', () => {
      const instances = useTwoInstances(() => ({ REDIS_URL: redis.url }))
      const logged = (instance: Instance, text: string) => instance.log.lines.some((line) => line.message === text)

      test('Redis carries the invalidations: both instances are subscribed', async () => {
        const client = new Bun.RedisClient(redis.url)
        expect(await client.send('PUBSUB', ['NUMSUB', 'tollgate:invalidation'])).toEqual(['tollgate:invalidation', 2])
        client.close()
      })

      test('cached entries live 1 s, and when it recovers the caches are emptied and the TTL is restored', async () => {
        const { a, b, clock } = instances
        const { row } = await insertKey(a.context.repos)
        await b.context.caches.keys.get(row.token)
        // Changed without a publish: a healthy instance keeps its copy for the configured TTL (60 s).
        await a.context.repos.keys.update(row.token, { keyAlias: 'renamed-1' })
        clock.advance(1100)
        const queries = b.database.stats.queries
        expect((await b.context.caches.keys.get(row.token))?.key.keyAlias).toBeNull()
        expect(b.database.stats.queries).toBe(queries)

        await redis.stop()
        expect(await eventually(() => logged(b, 'cache invalidation channel is down; cache TTL is 1 s until it recovers'), 3000)).toBe(true)
        clock.advance(1100)
        await b.context.caches.keys.get(row.token)
        expect(await eventually(() => b.context.caches.keys.peek(row.token)?.key.keyAlias === 'renamed-1', 1000)).toBe(true)

        await redis.start()
        expect(await eventually(() => logged(b, 'cache invalidation channel is back; cache TTL restored'), 5000)).toBe(true)
        expect(b.context.caches.keys.peek(row.token)).toBeUndefined()
        await b.context.caches.keys.get(row.token)
        await a.context.repos.keys.update(row.token, { keyAlias: 'renamed-2' })
        clock.advance(1100)
        const after = b.database.stats.queries
        expect((await b.context.caches.keys.get(row.token))?.key.keyAlias).toBe('renamed-1')
        expect(b.database.stats.queries).toBe(after)
      })
    })
  })
}
