/**
 * Budget rows owned by one object: a team's default member budget (`teams.team_member_budget_id`), a
 * member's own budget (`team_memberships.budget_id`, `organization_memberships.budget_id`) and the linked row
 * of an organization, end user or tag. Created when a first limit is set (an organization's always), updated
 * in place, and removed when every limit is cleared unless the row may be shared; each change is audited in
 * the caller's transaction.
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import type { BudgetInsert, BudgetRow, Patch, Repositories } from '../../db/ports'
import { addDuration } from '../../lib/duration'
import { newId } from '../../lib/ids'
import { definedOnly } from './validate'

export type OwnedBudgetPatch = Patch<
  Pick<BudgetInsert, 'maxBudget' | 'softBudget' | 'budgetDuration' | 'tpmLimit' | 'rpmLimit' | 'maxParallelRequests' | 'modelMaxBudget'>
>

export type OwnedBudgetOptions = {
  /** Create the row even when the patch sets no limit (every organization has a budget row). */
  createEmpty?: boolean
  /** Keep the row when every limit is cleared: it may be a tier other objects link to (`budget_id`). */
  keepEmpty?: boolean
}

export type OwnedBudgetResult = {
  row: BudgetRow | null
  /** The window length was set or changed to a new one: the owner's spend starts a fresh window (§6.7). */
  windowRestarted: boolean
}

/** `now + duration`, or null without a duration: a window's end after a create or a change of its length. */
export function windowEnd(duration: string | null | undefined, now: Date): Date | null {
  return duration ? addDuration(now, duration) : null
}

function isEmpty(row: BudgetRow): boolean {
  const limits = [row.maxBudget, row.softBudget, row.budgetDuration, row.tpmLimit, row.rpmLimit, row.maxParallelRequests]
  return limits.every((v) => v === null) && Object.keys(row.modelMaxBudget ?? {}).length === 0
}

export async function saveOwnedBudget(
  tx: Repositories,
  actor: ChangeActor,
  now: Date,
  currentId: string | null,
  patch: OwnedBudgetPatch,
  options: OwnedBudgetOptions = {},
): Promise<OwnedBudgetResult> {
  const changes = definedOnly(patch)
  const current = currentId ? await tx.budgets.get(currentId) : null
  if (Object.keys(changes).length === 0 && (current || !options.createEmpty)) return { row: current, windowRestarted: false }
  const by = actor.principal.userId

  if (!current) {
    if (!options.createEmpty && Object.values(changes).every((value) => value === null)) return { row: null, windowRestarted: false }
    const budgetId = newId()
    const row = await tx.budgets.insert({ budgetId, ...changes, budgetResetAt: windowEnd(changes.budgetDuration, now), createdBy: by, updatedBy: by })
    await recordChange(tx, actor, { action: 'created', tableName: 'budgets', objectId: budgetId, after: row })
    return { row, windowRestarted: Boolean(changes.budgetDuration) }
  }

  const durationChanged = changes.budgetDuration !== undefined && changes.budgetDuration !== current.budgetDuration
  const windowRestarted = durationChanged && Boolean(changes.budgetDuration)
  const next: Patch<BudgetInsert> = { ...changes, updatedBy: by }
  if (durationChanged) next.budgetResetAt = windowEnd(changes.budgetDuration, now)
  const updated = (await tx.budgets.update(current.budgetId, next))!
  if (!options.keepEmpty && isEmpty(updated)) {
    await tx.budgets.delete(current.budgetId)
    await recordChange(tx, actor, { action: 'deleted', tableName: 'budgets', objectId: current.budgetId, before: current })
    return { row: null, windowRestarted: false }
  }
  await recordChange(tx, actor, { action: 'updated', tableName: 'budgets', objectId: current.budgetId, before: current, after: updated })
  return { row: updated, windowRestarted }
}

/** Deletes owned budget rows (with their audit rows) when their owner goes away. */
export async function deleteOwnedBudgets(tx: Repositories, actor: ChangeActor, budgetIds: readonly (string | null)[]): Promise<string[]> {
  const deleted: string[] = []
  for (const budgetId of budgetIds) {
    if (!budgetId) continue
    const before = await tx.budgets.delete(budgetId)
    if (!before) continue
    await recordChange(tx, actor, { action: 'deleted', tableName: 'budgets', objectId: budgetId, before })
    deleted.push(budgetId)
  }
  return deleted
}
