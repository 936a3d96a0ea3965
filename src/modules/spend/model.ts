/**
 * Spend routes (§5.8): query and body schemas, and the response shapes LiteLLM clients read (`startTime`,
 * `custom_llm_provider`, `user`, `cache_hit: "False"` …). Dates are checked semantically in `dates.ts` (400).
 */
import { z } from 'zod'
import type { KeyRow, SpendLogRow, UserRow } from '../../db/ports'
import { formatTimestamp } from '../../lib/time'

/** A query value as sent: Elysia splits values with a comma (`team_ids=a,b`) into arrays; this joins them back. */
const text = z.preprocess((value) => (Array.isArray(value) ? value.join(',') : value), z.string()).optional()
const page = z.coerce.number().int().min(1).default(1)
const money = z.coerce.number().optional()

export const spendLogsQuery = z.object({
  api_key: text,
  user_id: text,
  team_id: text,
  request_id: text,
  start_date: text,
  end_date: text,
  summarize: z.stringbool().optional(),
})

export const spendLogsUiQuery = z.object({
  page,
  page_size: z.coerce.number().int().min(1).max(100).default(50),
  start_date: text,
  end_date: text,
  api_key: text,
  user_id: text,
  team_id: text,
  request_id: text,
  model: text,
  end_user: text,
  status_filter: text,
  min_spend: money,
  max_spend: money,
})

export const dateRangeQuery = z.object({ start_date: text, end_date: text })

export const spendReportQuery = z.object({
  start_date: text,
  end_date: text,
  group_by: text,
  api_key: text,
  internal_user_id: text,
  team_id: text,
  customer_id: text,
})

export const limitQuery = z.object({ limit: z.coerce.number().int().min(1).optional() })
export const spendUsersQuery = z.object({ user_id: text })

export const endUsersSpendBody = z
  .strictObject({ api_key: z.string().nullable().optional(), startTime: z.string().nullable().optional(), endTime: z.string().nullable().optional() })
  .nullable()
  .optional()

export const calculateSpendBody = z.strictObject({
  model: z.string().nullable().optional(),
  messages: z.array(z.unknown()).nullable().optional(),
  completion_response: z.record(z.string(), z.unknown()).nullable().optional(),
})

const activityFields = {
  start_date: text,
  end_date: text,
  model: text,
  api_key: text,
  page,
  page_size: z.coerce.number().int().min(1).max(1000).optional(),
}
export const userActivityQuery = z.object({ ...activityFields, user_id: text })
export const teamActivityQuery = z.object({ ...activityFields, team_ids: text })
export const customerActivityQuery = z.object({ ...activityFields, end_user_ids: text })
export const tagActivityQuery = z.object({ ...activityFields, tags: text })

export type SpendLogsQuery = z.infer<typeof spendLogsQuery>
export type SpendLogsUiQuery = z.infer<typeof spendLogsUiQuery>
export type SpendReportQuery = z.infer<typeof spendReportQuery>
export type EndUsersSpendBody = z.infer<typeof endUsersSpendBody>
export type CalculateSpendBody = z.infer<typeof calculateSpendBody>
export type ActivityQuery = z.infer<typeof userActivityQuery>

/** One spend log row as `/spend/logs` returns it. */
export function spendLogResponse(row: SpendLogRow) {
  const metadata = row.metadata as Record<string, unknown>
  return {
    request_id: row.requestId,
    call_type: row.callType,
    api_key: row.apiKey,
    spend: row.spend,
    total_tokens: row.totalTokens,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    startTime: formatTimestamp(row.startTime),
    endTime: formatTimestamp(row.endTime),
    completionStartTime: formatTimestamp(row.completionStartTime),
    model: row.model,
    model_group: row.modelGroup,
    model_id: row.modelId,
    custom_llm_provider: row.provider,
    user: row.userId,
    team_id: row.teamId,
    organization_id: row.organizationId,
    end_user: row.endUser,
    request_tags: row.requestTags,
    status: row.status,
    cache_hit: 'False',
    requester_ip_address: row.requesterIpAddress,
    metadata: {
      user_api_key: row.apiKey,
      user_api_key_alias: null,
      user_api_key_team_id: row.teamId,
      user_api_key_team_alias: null,
      user_api_key_user_id: row.userId,
      user_api_key_org_id: row.organizationId,
      spend_logs_metadata: null,
      error_information: null,
      ...metadata,
      usage_estimated: row.usageEstimated,
    },
  }
}

/** A key row for `/spend/keys`: its hash, never a plaintext. */
export function keySpendResponse(row: KeyRow, spend: number) {
  return {
    token: row.token,
    key_name: row.keyName,
    key_alias: row.keyAlias,
    spend,
    max_budget: row.maxBudget,
    soft_budget: row.softBudget,
    budget_duration: row.budgetDuration,
    budget_reset_at: formatTimestamp(row.budgetResetAt),
    model_spend: row.modelSpend,
    models: row.models,
    user_id: row.userId,
    team_id: row.teamId,
    organization_id: row.organizationId,
    expires: formatTimestamp(row.expires),
    blocked: row.blocked,
    created_at: formatTimestamp(row.createdAt),
    updated_at: formatTimestamp(row.updatedAt),
  }
}

export function userSpendResponse(row: UserRow, spend: number) {
  return {
    user_id: row.userId,
    user_email: row.userEmail,
    user_alias: row.userAlias,
    user_role: row.userRole,
    spend,
    max_budget: row.maxBudget,
    soft_budget: row.softBudget,
    budget_duration: row.budgetDuration,
    budget_reset_at: formatTimestamp(row.budgetResetAt),
    models: row.models,
    created_at: formatTimestamp(row.createdAt),
    updated_at: formatTimestamp(row.updatedAt),
  }
}
