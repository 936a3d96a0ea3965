/**
 * The budget refusals' wire form (§6.4): one status, type and message for every level (pitfall 12), the
 * level named in `x-tollgate-budget-scope`.
 */
import { ApiError } from '../../http/errors'
import { pythonFloat } from '../../lib/python-float'
import type { LevelBudget } from './levels'

export const BUDGET_SCOPE_HEADER = 'x-tollgate-budget-scope'

/** `Budget has been exceeded! {prefix}Current cost: {spend}, Max budget: {max}`, both numbers as Python prints them. */
export function budgetExceededMessage(level: Pick<LevelBudget, 'prefix'>, spend: number, maxBudget: number): string {
  return `Budget has been exceeded! ${level.prefix}Current cost: ${pythonFloat(spend)}, Max budget: ${pythonFloat(maxBudget)}`
}

export function budgetExceeded(level: LevelBudget & { maxBudget: number }, spend: number): ApiError {
  return new ApiError(400, 'auth_error', budgetExceededMessage(level, spend, level.maxBudget), null, { [BUDGET_SCOPE_HEADER]: level.level })
}

export function budgetWaitTimedOut(level: LevelBudget): ApiError {
  return new ApiError(429, 'rate_limit_error', `Budget admission timed out for ${level.level}: ${level.id}; requests in flight`, null, {
    'retry-after': '1',
    [BUDGET_SCOPE_HEADER]: level.level,
  })
}

export function unpricedModel(modelGroup: string): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    `Model ${modelGroup} has no price configured (input_cost_per_token/output_cost_per_token); refusing because a budget applies`,
  )
}

/** The client left while its request waited for budget; nobody reads this answer. */
export function clientGone(): ApiError {
  return new ApiError(499, 'client_disconnected', 'The client disconnected while waiting for budget admission')
}
