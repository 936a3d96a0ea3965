/**
 * Metrics, health and request logs, built once per app and tied to what they follow: the proxy's usage
 * records and refusals (request metrics and log lines), cache invalidations and spend settlements (budget
 * gauges), the rate limiter's admissions (remaining-limit gauges), and the process lifecycle (the 5-minute
 * gauge refresh, background health checks).
 */
import type { EntityCaches } from '../cache/entity-caches'
import type { Invalidator } from '../cache/invalidation'
import type { Settings } from '../config/load'
import type { Repositories } from '../db/ports'
import type { DataPlane } from '../data-plane'
import type { RateLimitObserver } from '../governance/rate-limits/admission-step'
import type { Clock } from '../lib/clock'
import type { Lifecycle } from '../lib/lifecycle'
import type { Logger } from '../lib/logger'
import type { Metrics } from '../metrics/registry'
import { DeploymentHealth } from '../modules/health/deployment-health'
import type { RedisConnection } from '../redis/connection'
import type { SpendEngine } from '../spend/engine'
import { BudgetGauges } from './budget-gauges'
import { rateLimitGauges } from './rate-limit-gauges'
import type { RequestObserver } from './requests'

export type RedisStatus = 'connected' | 'Not connected'

export type Observability = {
  /** A usage sink (every forwarded request) that also takes the requests refused before forwarding. */
  readonly requests: RequestObserver
  readonly budgetGauges: BudgetGauges
  /** Handed to the rate-limit admission step. */
  readonly rateLimits: RateLimitObserver
  readonly health: DeploymentHealth
  /** Whether Redis answers a PING now; null when no Redis is configured. */
  redisStatus(): Promise<RedisStatus | null>
  /** Brings time-dependent gauges up to date; called before every scrape (memory only). */
  beforeScrape(): void
}

export type ObservabilityDeps = {
  settings: Settings
  repos: Repositories
  caches: EntityCaches
  clock: Clock
  log: Logger
  metrics: Metrics
  spend: Pick<SpendEngine, 'onSettled' | 'pendingSpend'>
  invalidator: Pick<Invalidator, 'subscribe'>
  lifecycle: Lifecycle
  /** Health probes use the data plane's deployments and provider adapters. */
  dataPlane: Pick<DataPlane, 'catalog' | 'providers'>
  /** The request observer the data plane's usage sink already feeds. */
  requests: RequestObserver
  redis: RedisConnection | null
}

export function createObservability(deps: ObservabilityDeps): Observability {
  const { settings, metrics, lifecycle } = deps
  const general = settings.config.general_settings
  const budgetGauges = new BudgetGauges({
    metrics,
    repos: deps.repos,
    caches: deps.caches,
    clock: deps.clock,
    log: deps.log,
    pendingSpend: (kind, id) => deps.spend.pendingSpend(kind, id),
  })
  deps.invalidator.subscribe((message) => budgetGauges.invalidated(message))
  deps.spend.onSettled((rows) => budgetGauges.afterSettlement(rows))
  lifecycle.onStart(() => budgetGauges.start())
  lifecycle.onStop(() => budgetGauges.stop())

  const health = new DeploymentHealth({
    deployments: deps.dataPlane.catalog.deployments,
    providers: deps.dataPlane.providers,
    log: deps.log,
    background: general.background_health_checks,
    intervalSeconds: general.health_check_interval,
    details: general.health_check_details,
  })
  lifecycle.onStart(() => health.start())
  lifecycle.onStop(() => health.stop())

  const redis = deps.redis
  return {
    requests: deps.requests,
    budgetGauges,
    rateLimits: rateLimitGauges(metrics),
    health,
    async redisStatus() {
      if (!redis) return null
      return redis.run((client) => client.send('PING', [])).then(
        () => 'connected' as const,
        () => 'Not connected' as const,
      )
    },
    beforeScrape: () => budgetGauges.refreshHours(),
  }
}
