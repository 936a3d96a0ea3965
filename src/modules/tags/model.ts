/**
 * Tags (§5.7): request schemas and the response shape (LiteLLM's `TagConfig`). A tag's budget row applies to
 * every request carrying the tag.
 */
import { z } from 'zod'
import type { BudgetRow, TagRow } from '../../db/ports'
import { budgetLimitFields, budgetTable } from '../budgets/model'
import { stringList } from '../shared/fields'
import { lifecycleFields } from '../shared/response-fields'

const { max_budget, soft_budget, budget_duration } = budgetLimitFields
const tagFields = { description: z.string().nullable().optional(), models: stringList.nullable().optional(), max_budget, soft_budget, budget_duration }

export const newTagBody = z.strictObject({ name: z.string(), ...tagFields })
export const updateTagBody = z.strictObject({ name: z.string(), ...tagFields })
export const tagInfoBody = z.strictObject({ names: stringList })
export const tagDeleteBody = z.strictObject({ name: z.string() })

export type NewTagBody = z.infer<typeof newTagBody>
export type UpdateTagBody = z.infer<typeof updateTagBody>

export function tagResponse(row: TagRow, budget: BudgetRow | null) {
  return {
    name: row.tagName,
    description: row.description,
    models: row.models,
    spend: row.spend,
    budget_id: row.budgetId,
    litellm_budget_table: budgetTable(budget),
    ...lifecycleFields(row),
  }
}
