/**
 * Budget tiers (§5.6): request schemas and the response shape (LiteLLM's `LiteLLM_BudgetTable`).
 */
import { z } from 'zod'
import type { BudgetRow } from '../../db/ports'
import { formatTimestamp } from '../../lib/time'

const limit = z.int().nonnegative()
const modelMaxBudget = z.record(z.string(), z.record(z.string(), z.unknown()))

/** The limits a budget row holds, as organizations, end users and tags take them on their own requests too. */
export const budgetLimitFields = {
  max_budget: z.number().nullable().optional(),
  soft_budget: z.number().nullable().optional(),
  max_parallel_requests: limit.nullable().optional(),
  tpm_limit: limit.nullable().optional(),
  rpm_limit: limit.nullable().optional(),
  budget_duration: z.string().nullable().optional(),
  model_max_budget: modelMaxBudget.nullable().optional(),
}
export type BudgetLimitBody = { [K in keyof typeof budgetLimitFields]?: z.infer<(typeof budgetLimitFields)[K]> }

const budgetFields = {
  ...budgetLimitFields,
  budget_reset_at: z.iso.datetime({ offset: true }).nullable().optional(),
  allowed_models: z.array(z.string()).nullable().optional(),
}

export const newBudgetBody = z.strictObject({ budget_id: z.string().optional(), ...budgetFields })
export const updateBudgetBody = z.strictObject({ budget_id: z.string().nullable().optional(), ...budgetFields })
export const budgetInfoBody = z.strictObject({ budgets: z.array(z.string()) })
export const deleteBudgetBody = z.strictObject({ id: z.string() })
export const budgetSettingsQuery = z.object({ budget_id: z.string() })

export type NewBudgetBody = z.infer<typeof newBudgetBody>
export type UpdateBudgetBody = z.infer<typeof updateBudgetBody>

export function budgetResponse(row: BudgetRow) {
  return {
    budget_id: row.budgetId,
    max_budget: row.maxBudget,
    soft_budget: row.softBudget,
    max_parallel_requests: row.maxParallelRequests,
    tpm_limit: row.tpmLimit,
    rpm_limit: row.rpmLimit,
    model_max_budget: row.modelMaxBudget,
    budget_duration: row.budgetDuration,
    budget_reset_at: formatTimestamp(row.budgetResetAt),
    allowed_models: row.allowedModels,
    created_at: formatTimestamp(row.createdAt),
    created_by: row.createdBy,
    updated_at: formatTimestamp(row.updatedAt),
    updated_by: row.updatedBy,
  }
}

export type BudgetResponse = ReturnType<typeof budgetResponse>

/** `litellm_budget_table`: the budget row an object points at, or null. */
export function budgetTable(budget: BudgetRow | null | undefined): BudgetResponse | null {
  return budget ? budgetResponse(budget) : null
}

/** What `/budget/settings` describes, field by field. */
export const BUDGET_SETTING_FIELDS = [
  ['max_budget', 'float', 'Maximum spend allowed in a budget window (USD)', 'maxBudget'],
  ['soft_budget', 'float', 'Spend at which an alert is raised; never blocks', 'softBudget'],
  ['max_parallel_requests', 'int', 'Requests allowed in flight at once', 'maxParallelRequests'],
  ['tpm_limit', 'int', 'Tokens per minute', 'tpmLimit'],
  ['rpm_limit', 'int', 'Requests per minute', 'rpmLimit'],
  ['budget_duration', 'str', 'Length of a budget window, e.g. "30d"', 'budgetDuration'],
  ['budget_reset_at', 'datetime', 'When the current window ends', 'budgetResetAt'],
  ['model_max_budget', 'dict', 'Per-model budgets', 'modelMaxBudget'],
] as const
