/**
 * Everything a running gateway is made of, built from its settings, database, clock and logger. main.ts and
 * the tests build it the same way; only main.ts reads the environment and listens.
 */
import { resolveAdminCredential, type AdminCredential } from './auth/admin-credential'
import { createAuthenticator, type Authenticator } from './auth/authenticate'
import { createEntityCaches, type EntityCaches } from './cache/entity-caches'
import { createInvalidator, type Invalidator } from './cache/invalidation'
import type { Settings } from './config/load'
import { createDataPlane, type DataPlane, type DataPlaneOptions } from './data-plane'
import type { Database } from './db/database'
import type { Repositories } from './db/ports'
import { createRepositories } from './db/repositories'
import { createServerHandle, type ServerHandle } from './http/server-handle'
import type { Clock } from './lib/clock'
import { createLifecycle, type Lifecycle } from './lib/lifecycle'
import type { Logger } from './lib/logger'
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
  readonly version: string
  /** The OpenAI-compatible proxy's parts (catalog, providers, router, admission steps, usage sink, pricing). */
  readonly dataPlane: DataPlane
  /** The listening server, once main.ts attaches it (idle timeouts, client addresses). */
  readonly server: ServerHandle
}

export type AppContextOptions = {
  settings: Settings
  database: Database
  clock: Clock
  log: Logger
  /** Receives a generated admin key the one time it is created (main prints it). */
  announceAdminKey?: (key: string) => void
  /** Replaces data-plane parts (tests: a memory usage sink, a short keep-alive; later: the durable sink). */
  dataPlane?: DataPlaneOptions
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
  const invalidator = createInvalidator(caches)
  const authenticator = createAuthenticator({
    admin,
    caches,
    clock,
    customHeader: settings.config.general_settings.litellm_key_header_name ?? null,
    verifyJwt: null,
  })
  const lifecycle = createLifecycle((error) => log.error('error while stopping', { error: String(error) }))
  const dataPlane = createDataPlane(settings, log, options.dataPlane)
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
    version: VERSION,
    dataPlane,
    server: createServerHandle(),
  }
}
