/**
 * Builds the spend engine from the settings (the one place that maps config keys to engine options), warns
 * about unpriced deployments, and ties the engine to the process lifecycle: started after listening, stopped
 * (flushed) on SIGTERM/SIGINT.
 */
import { dirname, resolve } from 'node:path'
import type { Settings } from '../config/load'
import type { Database } from '../db/database'
import type { Repositories } from '../db/ports'
import type { Clock } from '../lib/clock'
import type { Lifecycle } from '../lib/lifecycle'
import type { Logger } from '../lib/logger'
import type { Metrics } from '../metrics/registry'
import { createSpendEngine, type SpendEngine } from './engine'
import { warnUnpricedDeployments } from './prices'

export type { SpendEngine } from './engine'

/** `general_settings.spend_spool_dir`, else `tollgate-spool/` beside a libSQL file, else in the working folder. */
export function spoolFolderFor(settings: Settings, database: Pick<Database, 'engine' | 'location'>): string {
  const configured = settings.config.general_settings.spend_spool_dir
  if (configured) return resolve(configured)
  const beside = database.engine === 'sqlite' && !database.location.includes('://') && database.location !== ':memory:'
  return resolve(beside ? dirname(database.location) : '.', 'tollgate-spool')
}

export type SpendSetupDeps = {
  settings: Settings
  database: Pick<Database, 'engine' | 'location' | 'dialect'>
  repos: Repositories
  clock: Clock
  log: Logger
  metrics: Metrics
  lifecycle: Lifecycle
}

export function createSpendEngineFor(deps: SpendSetupDeps): SpendEngine {
  const { settings, log } = deps
  const general = settings.config.general_settings
  const litellm = settings.config.litellm_settings
  warnUnpricedDeployments(settings.config.model_list, log)
  const engine = createSpendEngine({
    repos: deps.repos,
    clock: deps.clock,
    log,
    metrics: deps.metrics,
    isConnectionError: deps.database.dialect.isConnectionError,
    spoolFolder: spoolFolderFor(settings, deps.database),
    batchIntervalMs: general.proxy_batch_write_at * 1000,
    keepRawRows: !general.disable_spend_logs,
    spendLogRetention: general.maximum_spend_logs_retention_period ?? null,
    // A global budget of 0 means "off" (§6.4).
    proxyBudget: litellm.max_budget ? { maxBudget: litellm.max_budget, budgetDuration: litellm.budget_duration ?? null } : null,
    fsync: general.spend_spool_fsync,
  })
  deps.lifecycle.onStart(() => engine.start())
  deps.lifecycle.onStop(() => engine.stop())
  return engine
}
