/**
 * Budgets as the proxy's admission step 7 (§6.3): the model group's price first (a free model skips budgets;
 * an unpriced one is refused when a cap applies at any level, pitfall 23), then the request's levels with
 * every ended window turned over (lazy reset), then the gate's decision.
 */
import { ADMISSION_ORDER, type AdmissionRequest, type AdmissionStep } from '../../admission/pipeline'
import type { EntityCaches } from '../../cache/entity-caches'
import type { Logger } from '../../lib/logger'
import type { Clock } from '../../lib/clock'
import type { Pricing } from '../../spend/prices'
import { estimateRequest, groupPrice } from './estimate'
import type { BudgetGate } from './gate'
import { budgetLevels, dueWindows, type BudgetPolicy, type LevelBudget } from './levels'
import { unpricedModel } from './refusal'
import type { WindowResets } from './resets'
import { loadBudgetSnapshots, type SnapshotOptions } from './snapshots'

/** A window reset elsewhere between our reads is met again at most this often before admission goes on. */
const RESET_ROUNDS = 3

export type BudgetStepDeps = {
  readonly caches: EntityCaches
  readonly clock: Clock
  readonly log: Logger
  readonly gate: BudgetGate
  readonly resets: Pick<WindowResets, 'reset'>
  readonly policy: BudgetPolicy
  readonly snapshots: SnapshotOptions
  readonly pricing: Pricing
}

export function budgetStep(deps: BudgetStepDeps): AdmissionStep {
  const levelsOf = async (request: AdmissionRequest): Promise<LevelBudget[]> => {
    const snapshots = await loadBudgetSnapshots(
      deps.caches,
      {
        principal: request.principal,
        modelGroup: request.target.modelGroup,
        requestedModel: request.requestedModel,
        organizationId: request.organizationId,
        endUser: request.endUser,
        tags: request.tags,
      },
      deps.snapshots,
    )
    return budgetLevels(snapshots, deps.policy, deps.clock.now())
  }

  /** Turns over every ended window of the request's levels, then reads the levels again. */
  const withCurrentWindows = async (request: AdmissionRequest, levels: LevelBudget[]): Promise<LevelBudget[]> => {
    for (let round = 0; round < RESET_ROUNDS; round++) {
      const due = dueWindows(levels, deps.clock.now())
      if (due.length === 0) return levels
      try {
        await Promise.all(due.map((window) => deps.resets.reset(window)))
      } catch (error) {
        // The database is unreachable: decide on the counters of the window we know (never more lenient).
        deps.log.warn('lazy budget reset failed; admitting on the current counters', { error: String(error) })
        return levels
      }
      levels = await levelsOf(request)
    }
    return levels
  }

  return {
    name: 'budgets',
    order: ADMISSION_ORDER.budget,
    async admit(request) {
      const price = groupPrice(request.target, deps.pricing)
      if (price.free) return null
      const levels = await withCurrentWindows(request, await levelsOf(request))
      if (!price.priced) {
        // Served at 0 and flagged; tollgate_unpriced_requests_total counts it when it settles (observability).
        if (levels.some((level) => level.maxBudget !== null)) throw unpricedModel(request.target.modelGroup)
        return null
      }
      return deps.gate.admit(request, levels, estimateRequest(request.callType, request.body, request.target, price))
    },
  }
}
