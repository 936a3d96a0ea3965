/**
 * The budget-row limits that `/budget/*`, organizations, end users and tags take under the same names (§5.5–5.7):
 * their semantic checks, and the budget-row columns they set.
 */
import { badRequest } from '../../http/errors'
import type { OwnedBudgetPatch } from '../shared/owned-budget'
import { checkDuration, checkMoney, definedOnly } from '../shared/validate'
import { budgetLimitFields, type BudgetLimitBody } from './model'

const LIMIT_NAMES = Object.keys(budgetLimitFields) as (keyof BudgetLimitBody)[]

export function checkBudgetLimits(body: BudgetLimitBody): void {
  checkMoney('max_budget', body.max_budget)
  checkMoney('soft_budget', body.soft_budget)
  checkDuration('budget_duration', body.budget_duration)
}

/** The budget-row columns a request sets (absent = unchanged, null clears). */
export function budgetLimitPatch(body: BudgetLimitBody): OwnedBudgetPatch {
  return definedOnly({
    maxBudget: body.max_budget,
    softBudget: body.soft_budget,
    maxParallelRequests: body.max_parallel_requests,
    tpmLimit: body.tpm_limit,
    rpmLimit: body.rpm_limit,
    budgetDuration: body.budget_duration,
    modelMaxBudget: body.model_max_budget,
  })
}

/**
 * An object links a shared tier (`budget_id`) or carries limits of its own, not both in one request: the limits
 * would silently change every other object on that tier. Message as LiteLLM's for end users.
 */
export function checkEitherLimitsOrBudgetId(body: BudgetLimitBody & { budget_id?: string | null }): void {
  if (!body.budget_id) return
  const field = LIMIT_NAMES.find((name) => body[name] !== undefined && body[name] !== null)
  if (field) throw badRequest(`Set either '${field}' or 'budget_id', not both.`, field)
}
