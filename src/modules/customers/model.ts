/**
 * Customers / end users (§5.7): request schemas and the response shape (LiteLLM's `LiteLLM_EndUserTable`). An
 * end user is the `user` of a data-plane request; its limits live on a budget row of its own or a shared tier.
 */
import { z } from 'zod'
import type { BudgetRow, EndUserRow } from '../../db/ports'
import { budgetLimitFields, budgetTable } from '../budgets/model'
import { jsonObject, stringList } from '../shared/fields'
import { lifecycleFields } from '../shared/response-fields'

const { model_max_budget: _perModel, ...customerLimitFields } = budgetLimitFields

const customerFields = {
  alias: z.string().nullable().optional(),
  blocked: z.boolean().nullable().optional(),
  budget_id: z.string().nullable().optional(),
  ...customerLimitFields,
  allowed_model_region: z.enum(['eu', 'us']).nullable().optional(),
  default_model: z.string().nullable().optional(),
  spend: z.number().optional(),
  metadata: jsonObject.nullable().optional(),
}

export const newCustomerBody = z.strictObject({ user_id: z.string(), ...customerFields })
export const updateCustomerBody = z.strictObject({ user_id: z.string(), ...customerFields })
export const customerIdsBody = z.strictObject({ user_ids: stringList })
export const customerInfoQuery = z.object({ end_user_id: z.string() })

export type NewCustomerBody = z.infer<typeof newCustomerBody>
export type UpdateCustomerBody = z.infer<typeof updateCustomerBody>

export function customerResponse(row: EndUserRow, budget: BudgetRow | null) {
  return {
    user_id: row.userId,
    alias: row.alias,
    spend: row.spend,
    blocked: row.blocked,
    allowed_model_region: row.allowedModelRegion,
    default_model: row.defaultModel,
    budget_id: row.budgetId,
    litellm_budget_table: budgetTable(budget),
    metadata: row.metadata,
    ...lifecycleFields(row),
  }
}
