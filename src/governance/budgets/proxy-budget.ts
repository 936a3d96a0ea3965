/**
 * The global proxy budget (`litellm_settings.max_budget` > 0, pitfall 9) is an ordinary level: its spend and
 * window live on the `litellm-proxy-budget` pseudo-user, which settlements charge. This keeps that row in step
 * with the config: created when missing, and a changed `budget_duration` starts a fresh window (§6.7).
 */
import type { Invalidator } from '../../cache/invalidation'
import type { Repositories } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import { addDuration } from '../../lib/duration'
import { PROXY_BUDGET_USER } from '../../spend/increments'
import { proxyBudgetUserRow, type ProxyBudget } from '../../spend/settle'

export type GlobalBudget = ProxyBudget

/** `litellm_settings.max_budget` is a cap only when > 0 (0 means off). */
export function globalBudgetOf(settings: { max_budget?: number; budget_duration?: string }): GlobalBudget | null {
  return settings.max_budget ? { maxBudget: settings.max_budget, budgetDuration: settings.budget_duration ?? null } : null
}

export async function syncProxyBudgetUser(deps: { repos: Repositories; clock: Clock; invalidator: Invalidator; isUniqueViolation(error: unknown): boolean }, budget: GlobalBudget): Promise<void> {
  const { repos } = deps
  const now = new Date(deps.clock.now())
  const windowEnd = budget.budgetDuration ? addDuration(now, budget.budgetDuration) : null
  const current = await repos.users.get(PROXY_BUDGET_USER)
  if (!current) {
    try {
      await repos.users.insert(proxyBudgetUserRow(budget, now))
    } catch (error) {
      // Another instance created it first.
      if (!deps.isUniqueViolation(error)) throw error
    }
  } else if (current.budgetDuration !== budget.budgetDuration || current.maxBudget !== budget.maxBudget) {
    const durationChanged = current.budgetDuration !== budget.budgetDuration
    await repos.users.update(PROXY_BUDGET_USER, {
      maxBudget: budget.maxBudget,
      ...(durationChanged ? { budgetDuration: budget.budgetDuration, budgetResetAt: windowEnd, spend: budget.budgetDuration ? 0 : current.spend } : {}),
    })
  } else {
    return
  }
  await deps.invalidator.publish({ kind: 'users', id: PROXY_BUDGET_USER })
}
