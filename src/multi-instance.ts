/**
 * What several instances share, and how one instance runs alone. With Redis configured: rate-limit and budget
 * counters live in Redis (per-instance while it is unreachable) and cache invalidations travel over Redis
 * pub/sub. Without Redis on Postgres: counters are per instance and invalidations travel over LISTEN/NOTIFY.
 * On libSQL without Redis (one instance by definition): everything is local. While the invalidation channel
 * is down, every entity cache's TTL is 1 s; when it recovers the configured TTL returns and the caches are
 * emptied, since invalidations sent meanwhile were lost.
 */
import type { EntityCaches } from './cache/entity-caches'
import type { Invalidation } from './cache/invalidation'
import { ChannelTransport } from './cache/transports/channel-transport'
import type { PubSubChannel } from './cache/transports/channel'
import { PostgresChannel } from './cache/transports/postgres-channel'
import { RedisChannel } from './cache/transports/redis-channel'
import type { Settings } from './config/load'
import type { Database } from './db/database'
import { FailoverCounterStore } from './governance/rate-limits/failover-store'
import { RateLimiter } from './governance/rate-limits/limiter'
import { MemoryCounterStore } from './governance/rate-limits/memory-store'
import { RedisCounterStore } from './governance/rate-limits/redis-store'
import type { CounterStore } from './governance/rate-limits/store'
import type { Clock } from './lib/clock'
import type { Logger } from './lib/logger'
import type { Metrics } from './metrics/registry'
import { RedisConnection } from './redis/connection'

/** The cache TTL while cross-instance invalidation is down (§9). */
export const DEGRADED_CACHE_TTL_MS = 1000
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 600

export type MultiInstanceOptions = {
  settings: Settings
  database: Database
  clock: Clock
  log: Logger
  metrics: Metrics
  caches: EntityCaches
  /** Timings for tests; production uses the defaults. */
  timings?: { redisRetryMs?: number; heartbeatMs?: number; downAfterMs?: number }
}

export type MultiInstance = {
  readonly counters: CounterStore
  /** The counters' Redis connection, when Redis is configured: budget reservations run their script on it, readiness PINGs it. */
  readonly redis: RedisConnection | null
  readonly rateLimiter: RateLimiter
  /** Null on a lone libSQL instance without Redis. */
  readonly transport: ChannelTransport | null
  /** Starts delivering other instances' invalidations to `receive` (lifecycle start). */
  start(receive: (message: Invalidation) => void): Promise<void>
  stop(): Promise<void>
}

export async function createMultiInstance(options: MultiInstanceOptions): Promise<MultiInstance> {
  const { settings, database, clock, log, metrics, caches, timings = {} } = options
  const local = new MemoryCounterStore(clock)
  let counters: CounterStore = local
  let redis: RedisConnection | null = null
  let channel: PubSubChannel | null = null

  if (settings.redis) {
    const common = { url: settings.redis.url, log, errors: metrics.redisErrors, retryMs: timings.redisRetryMs }
    redis = new RedisConnection({ ...common, role: 'counters', whileDown: 'rate limits and budget counters are counted per instance' })
    counters = new FailoverCounterStore(new RedisCounterStore(redis, clock), local, redis, log)
    channel = new RedisChannel(redis, common)
    await redis.start()
  } else if (database.listen && database.notify) {
    channel = new PostgresChannel({ location: database.location, listen: database.listen, notify: database.notify })
  }

  const configuredTtlMs = settings.config.general_settings.user_api_key_cache_ttl * 1000
  const transport = channel
    ? new ChannelTransport(channel, {
        log,
        lag: metrics.invalidationLagSeconds,
        heartbeatMs: timings.heartbeatMs,
        downAfterMs: timings.downAfterMs,
        onHealth: (healthy) => {
          for (const cache of Object.values(caches)) {
            cache.setTtl(healthy ? configuredTtlMs : Math.min(DEGRADED_CACHE_TTL_MS, configuredTtlMs))
            if (healthy) cache.clear()
          }
        },
      })
    : null

  const general = settings.config.general_settings
  const timeoutSeconds =
    settings.config.router_settings.timeout ?? settings.config.litellm_settings.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_SECONDS
  const rateLimiter = new RateLimiter({
    store: counters,
    clock,
    log,
    tokenRateLimitType: general.token_rate_limit_type,
    globalMaxParallel: general.global_max_parallel_requests ?? null,
    leaseTtlMs: (timeoutSeconds + 60) * 1000,
  })

  return {
    counters,
    redis,
    rateLimiter,
    transport,
    async start(receive) {
      await transport?.start(receive)
    },
    async stop() {
      await transport?.stop()
      await redis?.stop()
    },
  }
}
