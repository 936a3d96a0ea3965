/**
 * Budgets (§6.4, §6.7) built from the settings: where committed spend lives, the admission step, the usage
 * sink wrapper that counts a settlement before it is spooled, the management reads' current-window spend, the
 * sweeper (started with the process) and what reset endpoints call after overwriting spend.
 *
 * @example
 *   const budgets = createBudgets({ ...deps })
 *   usage: budgets.countFirst(spendUsageSink(spend))       // counters first, then the spool
 *   admission.register(budgets.admissionStep(pricing))     // at ADMISSION_ORDER.budget
 */
import type { AdmissionStep } from '../../admission/pipeline'
import type { EntityCaches } from '../../cache/entity-caches'
import type { Invalidator } from '../../cache/invalidation'
import type { Settings } from '../../config/load'
import type { Database } from '../../db/database'
import type { Repositories } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import type { Lifecycle } from '../../lib/lifecycle'
import type { Logger } from '../../lib/logger'
import type { Metrics } from '../../metrics/registry'
import type { RedisConnection } from '../../redis/connection'
import type { SpendEngine } from '../../spend/engine'
import type { EntityKind } from '../../spend/increments'
import type { Pricing } from '../../spend/prices'
import type { UsageSink } from '../../usage/sink'
import type { FloatCounters } from '../rate-limits/store'
import { budgetStep } from './admission-step'
import { CommittedSpend, storedSpendReader, type CounterMode } from './committed'
import { BudgetGate } from './gate'
import { globalBudgetOf, syncProxyBudgetUser } from './proxy-budget'
import { RedisReservations } from './redis-reservations'
import { LocalReservations } from './reservations'
import { WindowResets } from './resets'
import { createSoftBudgetAlerts } from './soft-budgets'
import { createBudgetSweeper, sweepIntervalMs, type BudgetSweeper } from './sweeper'
import { createCurrentSpend, type CurrentSpend } from './views'

const DEFAULT_REQUEST_TIMEOUT_SECONDS = 600

export type BudgetsDeps = {
  readonly settings: Settings
  readonly database: Pick<Database, 'engine' | 'dialect'>
  readonly repos: Repositories
  readonly clock: Clock
  readonly log: Logger
  readonly metrics: Metrics
  readonly caches: EntityCaches
  readonly invalidator: Invalidator
  readonly counters: FloatCounters
  /** The Redis connection counters use, when Redis is configured (strict-mode reservations share it). */
  readonly redis: RedisConnection | null
  readonly spend: SpendEngine
  readonly lifecycle: Lifecycle
}

export type Budgets = {
  admissionStep(pricing: Pricing): AdmissionStep
  /** Wraps the spend sink: a settlement is added to the budget counters, then handed to `sink` in the same step. */
  countFirst(sink: UsageSink): UsageSink
  /** Current-window spend for management reads (lazy reset + this instance's unflushed spend). */
  readonly current: CurrentSpend
  /**
   * An entity's spend in its current window as stored plus this instance's unflushed settlements (budget
   * gauges after a settlement). Ids as `spend.pendingSpend` takes them (`membershipKey(team, user)` …).
   */
  committedSpend(kind: EntityKind, id: string): Promise<number>
  /** After spend was overwritten in the database (`/key/{key}/reset_spend`, `/global/spend/reset`). */
  spendOverwritten(target: { kind: 'key'; id: string } | { kind: 'all_keys_and_teams' }): Promise<void>
  readonly sweeper: BudgetSweeper
  readonly mode: CounterMode
}

export function createBudgets(deps: BudgetsDeps): Budgets {
  const { settings, repos, clock, log, metrics, spend } = deps
  const general = settings.config.general_settings
  const litellm = settings.config.litellm_settings
  const mode: CounterMode = settings.redis ? 'shared' : deps.database.engine === 'pg' ? 'reread' : 'local'
  const stored = storedSpendReader(repos)
  const committed = new CommittedSpend({ counters: deps.counters, spend, stored, clock, mode })
  const defaultEndUserBudgetId = litellm.max_end_user_budget_id ?? null
  const resets = new WindowResets({ repos, invalidator: deps.invalidator, clock, log, spend, defaultEndUserBudgetId })
  const timeoutSeconds = settings.config.router_settings.timeout ?? litellm.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_SECONDS
  const reservationTtlMs = (timeoutSeconds + 60) * 1000
  const local = new LocalReservations(committed)
  const strict = general.budget_enforcement === 'strict'
  const reservations = strict && deps.redis ? new RedisReservations(deps.redis, committed, local, Math.ceil(reservationTtlMs / 1000) + 60) : local
  const gate = new BudgetGate({
    committed,
    reservations,
    alerts: createSoftBudgetAlerts({ log, metrics, webhookUrl: general.alert_to_webhook_url ?? null }),
    metrics,
    log,
    strict,
    waitTimeoutMs: general.budget_wait_timeout * 1000,
    reservationTtlMs,
  })
  const globalBudget = globalBudgetOf(litellm)
  let globalSynced = false
  // Once per process, at start, else on the first sweep that reaches the database.
  const syncGlobal = globalBudget
    ? async () => {
        if (globalSynced) return
        await syncProxyBudgetUser({ repos, clock, invalidator: deps.invalidator, isUniqueViolation: deps.database.dialect.isUniqueViolation }, globalBudget)
        globalSynced = true
      }
    : undefined
  const sweeper = createBudgetSweeper({
    repos,
    resets,
    clock,
    log,
    holder: spend.instance,
    intervalMs: sweepIntervalMs(general.proxy_budget_rescheduler_min_time, general.proxy_budget_rescheduler_max_time),
    beforeSweep: syncGlobal,
  })
  deps.lifecycle.onStart(async () => {
    await syncGlobal?.().catch((error) => log.warn('could not prepare the global budget row', { error: String(error) }))
    sweeper.start()
  })
  deps.lifecycle.onStop(() => sweeper.stop())

  return {
    mode,
    sweeper,
    current: createCurrentSpend({ repos, spend, resets, clock, log }),
    admissionStep: (pricing) =>
      budgetStep({
        caches: deps.caches,
        clock,
        log,
        gate,
        resets,
        pricing,
        policy: {
          skipUserBudgetOnTeamKey: general.skip_user_budget_on_team_key,
          maxEndUserBudget: litellm.max_end_user_budget ?? null,
          globalMaxBudget: globalBudget?.maxBudget ?? null,
        },
        snapshots: { defaultEndUserBudgetId, globalBudget: globalBudget !== null },
      }),
    countFirst: (sink) => ({
      record(record) {
        const counted = gate.charge(record)
        const recorded = sink.record(record)
        if (!counted && !recorded) return
        return Promise.all([counted, recorded]).then(() => {})
      },
    }),
    async committedSpend(kind, id) {
      return (await stored({ kind, id })) + spend.pendingSpend(kind, id)
    },
    async spendOverwritten(target) {
      if (target.kind === 'key') {
        await committed.forget(`key:${target.id}`)
        // key_model scopes are `key_model:["<token>","<model>"]`.
        await committed.forget(`key_model:${JSON.stringify([target.id]).slice(0, -1)},`, { prefix: true })
      } else {
        await committed.forget('key:', { prefix: true })
        await committed.forget('key_model:', { prefix: true })
        await committed.forget('team:', { prefix: true })
      }
    },
  }
}
