/**
 * Response fields several objects share under LiteLLM's names: the spend/limit block of teams, keys and users,
 * and the lifecycle columns.
 */
import { formatTimestamp } from '../../lib/time'

type Limited = {
  spend: number
  maxBudget: number | null
  softBudget: number | null
  budgetDuration: string | null
  budgetResetAt: Date | null
  tpmLimit: number | null
  rpmLimit: number | null
  maxParallelRequests: number | null
}

export function limitFields(row: Limited) {
  return {
    spend: row.spend,
    max_budget: row.maxBudget,
    soft_budget: row.softBudget,
    budget_duration: row.budgetDuration,
    budget_reset_at: formatTimestamp(row.budgetResetAt),
    tpm_limit: row.tpmLimit,
    rpm_limit: row.rpmLimit,
    max_parallel_requests: row.maxParallelRequests,
  }
}

type Lifecycle = { createdAt: Date; createdBy: string | null; updatedAt: Date; updatedBy: string | null }

export function lifecycleFields(row: Lifecycle) {
  return {
    created_at: formatTimestamp(row.createdAt),
    created_by: row.createdBy,
    updated_at: formatTimestamp(row.updatedAt),
    updated_by: row.updatedBy,
  }
}
