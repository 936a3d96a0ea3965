/**
 * Everything a running gateway is made of, built from its settings, database, clock and logger. main.ts and
 * the tests build it the same way; only main.ts reads the environment and listens.
 */
import { resolveAdminCredential, type AdminCredential } from './auth/admin-credential'
import { createAuthenticator, type Authenticator } from './auth/authenticate'
import { JwksSource } from './auth/jwt/jwks'
import { createJwtPrincipalResolver } from './auth/jwt/principal'
import { createJwtVerifier } from './auth/jwt/verify'
import { createEntityCaches, type EntityCaches } from './cache/entity-caches'
import { createInvalidator, type Invalidator } from './cache/invalidation'
import type { Settings } from './config/load'
import { createDataPlane, type DataPlane, type DataPlaneOptions } from './data-plane'
import { spendUsageSink } from './spend/usage-sink'
import { fanOut } from './usage/sink'
import type { Database } from './db/database'
import type { Repositories } from './db/ports'
import { createRepositories } from './db/repositories'
import { createServerHandle, type ServerHandle } from './http/server-handle'
import type { Clock } from './lib/clock'
import { createLifecycle, type Lifecycle } from './lib/lifecycle'
import type { Logger } from './lib/logger'
import { createMetrics, type Metrics } from './metrics/registry'
import type { RateLimiter } from './governance/rate-limits/limiter'
import type { FloatCounters } from './governance/rate-limits/store'
import { createMultiInstance } from './multi-instance'
import { rateLimitStep } from './governance/rate-limits/admission-step'
import { createSpendEngineFor, type SpendEngine } from './spend/setup'
import { createObservability, type Observability } from './observability/observability'
import { createRequestObserver } from './observability/requests'
import { createBudgets, type Budgets } from './governance/budgets/setup'
import { VERSION } from './version'

export type AppContext = {
  readonly settings: Settings
  readonly database: Database
  readonly repos: Repositories
  readonly clock: Clock
  readonly log: Logger
  readonly admin: AdminCredential
  readonly caches: EntityCaches
  readonly invalidator: Invalidator
  readonly authenticator: Authenticator
  readonly lifecycle: Lifecycle
  readonly metrics: Metrics
  /** Rate limits and parallel slots (§6.5): the proxy's admission step calls `rateLimiter.admit(levels)`. */
  readonly rateLimiter: RateLimiter
  /** Budget counters shared across instances (Redis when configured, else this process). */
  readonly counters: FloatCounters
  /** Spend accounting: `spend.record(row)` for every finished request (src/spend/engine.ts). */
  readonly spend: SpendEngine
  /** Budgets: admission, committed-spend counters, window resets and current-window spend for reads. */
  readonly budgets: Budgets
  readonly version: string
  /** The OpenAI-compatible proxy's parts (catalog, providers, router, admission steps, usage sink, pricing). */
  readonly dataPlane: DataPlane
  /** The listening server, once main.ts attaches it (idle timeouts, client addresses). */
  readonly server: ServerHandle
  /** Request metrics and logs, budget and rate-limit gauges, deployment health, Redis status. */
  readonly observability: Observability
}

export type AppContextOptions = {
  settings: Settings
  database: Database
  clock: Clock
  log: Logger
  /** Receives a generated admin key the one time it is created (main prints it). */
  announceAdminKey?: (key: string) => void
  /**
   * Data-plane parts to use instead of the defaults (tests: a short keep-alive, a scripted router). `usage` is
   * an extra sink: the spend engine always receives every usage record, and this one sees them too.
   */
  dataPlane?: DataPlaneOptions
}

function jwtPrincipals(
  settings: Settings,
  jwt: NonNullable<Settings['jwt']>,
  deps: { repos: Repositories; caches: EntityCaches; invalidator: Invalidator; clock: Clock; database: Database },
) {
  const urls = (settings.jwtEnv.publicKeyUrl ?? '').split(',').map((url) => url.trim()).filter(Boolean)
  const verifier = createJwtVerifier({
    keys: new JwksSource({ urls, clock: deps.clock, ttlMs: jwt.public_key_ttl * 1000 }),
    clock: deps.clock,
    audience: settings.jwtEnv.audience,
    issuer: settings.jwtEnv.issuer,
  })
  return createJwtPrincipalResolver({
    jwt,
    litellmSettings: settings.config.litellm_settings,
    verifier,
    caches: deps.caches,
    repos: deps.repos,
    invalidator: deps.invalidator,
    clock: deps.clock,
    isUniqueViolation: deps.database.dialect.isUniqueViolation,
  })
}

export async function createAppContext(options: AppContextOptions): Promise<AppContext> {
  const { settings, database, clock, log } = options
  const repos = createRepositories(database, clock)
  const admin = await resolveAdminCredential(settings.masterKey, repos, options.announceAdminKey ?? (() => {}))
  const caches = createEntityCaches(repos, {
    clock,
    ttlMs: settings.config.general_settings.user_api_key_cache_ttl * 1000,
    onRefreshError: (error) => log.warn('cache refresh failed; serving the cached copy', { error: String(error) }),
  })
  const metrics = createMetrics()
  const shared = await createMultiInstance({ settings, database, clock, log, metrics, caches })
  const invalidator = createInvalidator(caches, shared.transport)
  const authenticator = createAuthenticator({
    admin,
    caches,
    clock,
    customHeader: settings.config.general_settings.litellm_key_header_name ?? null,
    verifyJwt: settings.jwt ? jwtPrincipals(settings, settings.jwt, { repos, caches, invalidator, clock, database }) : null,
    repos,
  })
  const lifecycle = createLifecycle((error) => log.error('error while stopping', { error: String(error) }))
  lifecycle.onStart(() => shared.start(invalidator.receive))
  lifecycle.onStop(() => shared.stop())
  const { rateLimiter, counters } = shared
  const spend = createSpendEngineFor({ settings, database, repos, clock, log, metrics, lifecycle })
  const budgets = createBudgets({ settings, database, repos, clock, log, metrics, caches, invalidator, counters, redis: shared.redis, spend, lifecycle })
  const requests = createRequestObserver({
    metrics,
    log,
    trackEndUsers: settings.config.litellm_settings.enable_end_user_cost_tracking_prometheus_only,
    isConnectionError: database.dialect.isConnectionError,
  })
  const usage = fanOut(budgets.countFirst(spendUsageSink(spend)), requests, options.dataPlane?.usage)
  const dataPlane = createDataPlane(settings, log, { ...options.dataPlane, usage }, { clock, counters: shared.counters, metrics })
  const observability = createObservability({ settings, repos, caches, clock, log, metrics, spend, invalidator, lifecycle, dataPlane, requests, redis: shared.redis })
  dataPlane.admission.register(budgets.admissionStep(dataPlane.pricing))
  dataPlane.admission.register(rateLimitStep({ caches, settings, rateLimiter, onAdmitted: observability.rateLimits }))
  return {
    settings,
    database,
    repos,
    clock,
    log,
    admin,
    caches,
    invalidator,
    authenticator,
    lifecycle,
    metrics,
    rateLimiter,
    counters,
    spend,
    budgets,
    version: VERSION,
    dataPlane,
    server: createServerHandle(),
    observability,
  }
}
