/**
 * Virtual keys (§5.3): request schemas and the response shape (LiteLLM's `LiteLLM_VerificationToken`). A key's
 * plaintext appears only in the response that creates it; everywhere else a key is its sha256 (`token`).
 */
import { z } from 'zod'
import type { BudgetRow, KeyRow } from '../../db/ports'
import { formatTimestamp } from '../../lib/time'
import { budgetTable } from '../budgets/model'
import { lifecycleFields, limitFields } from '../shared/response-fields'
import { jsonObject, limit, pageNumber, queryBool, stringList, stringMap, timestampText } from '../shared/fields'
import { UNACTED_ON_KEYS, unactedFieldSchemas } from '../shared/unacted-fields'

export const KEY_TYPES = ['default', 'llm_api', 'management', 'read_only'] as const
export const KEY_SORT_COLUMNS = ['spend', 'max_budget', 'created_at', 'updated_at', 'token', 'key_alias'] as const

export const KEY_UNACTED_FIELDS = UNACTED_ON_KEYS

/** `{budget_limit, time_period}` (LiteLLM's BudgetConfig) or `{max_budget, budget_duration}`. */
const modelBudget = z.strictObject({
  budget_limit: z.number().nullable().optional(),
  time_period: z.string().nullable().optional(),
  max_budget: z.number().nullable().optional(),
  budget_duration: z.string().nullable().optional(),
})
const throughputType = z.enum(['guaranteed_throughput', 'best_effort_throughput', 'dynamic'])

/** Every field `/key/generate` and `/key/update` take besides `key`. */
export const keyFields = {
  key_alias: z.string().nullable().optional(),
  duration: z.string().nullable().optional(),
  user_id: z.string().nullable().optional(),
  team_id: z.string().nullable().optional(),
  organization_id: z.string().nullable().optional(),
  budget_id: z.string().nullable().optional(),
  models: stringList.nullable().optional(),
  aliases: stringMap.nullable().optional(),
  max_budget: z.number().nullable().optional(),
  soft_budget: z.number().nullable().optional(),
  budget_duration: z.string().nullable().optional(),
  spend: z.number().optional(),
  tpm_limit: limit.nullable().optional(),
  rpm_limit: limit.nullable().optional(),
  max_parallel_requests: limit.nullable().optional(),
  model_rpm_limit: z.record(z.string(), limit).nullable().optional(),
  model_tpm_limit: z.record(z.string(), limit).nullable().optional(),
  rpm_limit_type: throughputType.nullable().optional(),
  tpm_limit_type: throughputType.nullable().optional(),
  model_max_budget: z.record(z.string(), modelBudget).nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  tags: stringList.nullable().optional(),
  blocked: z.boolean().nullable().optional(),
  allowed_routes: stringList.nullable().optional(),
  key_type: z.enum(KEY_TYPES).nullable().optional(),
  temp_budget_increase: z.number().nullable().optional(),
  temp_budget_expiry: timestampText.nullable().optional(),
  ...unactedFieldSchemas(KEY_UNACTED_FIELDS),
}

export const generateKeyBody = z.strictObject({ key: z.string().nullable().optional(), ...keyFields })
export const updateKeyBody = z.strictObject({ key: z.string(), ...keyFields })
const rotationFields = {
  new_key: z.string().nullable().optional(),
  grace_period: z.string().nullable().optional(),
  /** Accepted only to answer with the contract's 400: the master key lives in config. */
  new_master_key: z.string().nullable().optional(),
}
export const regenerateKeyBody = z.strictObject({ key: z.string(), ...rotationFields, ...keyFields })
export const regeneratePathBody = z.strictObject({ ...rotationFields, ...keyFields }).nullish()
export const keyRefBody = z.strictObject({ key: z.string() })
export const deleteKeysBody = z.strictObject({ keys: stringList.nullable().optional(), key_aliases: stringList.nullable().optional() })
export const keyInfoQuery = z.object({ key: z.string().optional() })
export const keysInfoBody = z.strictObject({ keys: stringList })
export const resetSpendBody = z.strictObject({ reset_to: z.unknown() })
export const bulkUpdateBody = z.strictObject({ keys: z.array(updateKeyBody) })
export const keyListQuery = z.object({
  page: pageNumber.default(1),
  size: pageNumber.max(100).default(10),
  user_id: z.string().optional(),
  team_id: z.string().optional(),
  organization_id: z.string().optional(),
  key_hash: z.string().optional(),
  key_alias: z.string().optional(),
  return_full_object: queryBool.default(false),
  include_team_keys: queryBool.default(false),
  sort_by: z.enum(KEY_SORT_COLUMNS).optional(),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
})
export const keyAliasesQuery = z.object({ page: pageNumber.default(1), size: pageNumber.max(100).default(50), search: z.string().optional() })

export type KeyFields = { [K in keyof typeof keyFields]?: z.infer<(typeof keyFields)[K]> }
export type GenerateKeyBody = z.infer<typeof generateKeyBody>
export type UpdateKeyBody = z.infer<typeof updateKeyBody>
export type RegenerateKeyBody = z.infer<typeof regenerateKeyBody>
export type KeyListQuery = z.infer<typeof keyListQuery>

/**
 * A key object. `token` (and LiteLLM's `token_id`, the same hash) only where the caller may see hashes of keys
 * other than the one they passed; `/key/info` and team views leave it out.
 */
export function keyResponse(row: KeyRow, budget: BudgetRow | null, options: { withToken: boolean }) {
  const metadata = row.metadata
  return {
    ...(options.withToken ? { token: row.token, token_id: row.token } : {}),
    key_name: row.keyName,
    key_alias: row.keyAlias,
    user_id: row.userId,
    team_id: row.teamId,
    organization_id: row.organizationId,
    budget_id: row.budgetId,
    models: row.models,
    aliases: row.aliases,
    metadata,
    tags: (metadata.tags as string[] | undefined) ?? null,
    allowed_routes: row.allowedRoutes,
    key_type: row.keyType,
    ...limitFields(row),
    model_max_budget: row.modelMaxBudget,
    model_spend: row.modelSpend,
    model_rpm_limit: metadata.model_rpm_limit ?? null,
    model_tpm_limit: metadata.model_tpm_limit ?? null,
    expires: formatTimestamp(row.expires),
    blocked: row.blocked,
    temp_budget_increase: row.tempBudgetIncrease,
    temp_budget_expiry: formatTimestamp(row.tempBudgetExpiry),
    litellm_budget_table: budgetTable(budget),
    ...lifecycleFields(row),
  }
}

export type KeyResponse = ReturnType<typeof keyResponse>
