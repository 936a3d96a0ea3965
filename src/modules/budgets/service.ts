/**
 * Budget tiers: reusable rows of limits that keys, memberships, organizations and end users point at.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import type { BudgetInsert, Patch } from '../../db/ports'
import { badRequest, notFound, unprocessable } from '../../http/errors'
import { addDuration } from '../../lib/duration'
import { clientIdProblem, newId } from '../../lib/ids'
import { definedOnly } from '../shared/validate'
import { budgetLimitPatch, checkBudgetLimits } from './limits'
import { BUDGET_SETTING_FIELDS, budgetResponse, type NewBudgetBody, type UpdateBudgetBody } from './model'

type Deps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'database'>

function budgetColumns(body: NewBudgetBody | UpdateBudgetBody): Patch<BudgetInsert> {
  return {
    ...budgetLimitPatch(body),
    ...definedOnly({
      budgetResetAt: body.budget_reset_at === undefined ? undefined : body.budget_reset_at === null ? null : new Date(body.budget_reset_at),
      allowedModels: body.allowed_models,
    }),
  }
}

export async function createBudget(deps: Deps, actor: ChangeActor, body: NewBudgetBody) {
  checkBudgetLimits(body)
  const budgetId = body.budget_id ?? newId()
  const idProblem = clientIdProblem(budgetId)
  if (idProblem) throw unprocessable(`budget_id: ${idProblem}`, 'budget_id')
  const columns = budgetColumns(body)
  if (columns.budgetResetAt === undefined && body.budget_duration) {
    columns.budgetResetAt = addDuration(new Date(deps.clock.now()), body.budget_duration)
  }
  const row = await deps.repos.transaction(async (tx) => {
    if (await tx.budgets.get(budgetId)) throw badRequest(`Budget with id '${budgetId}' already exists.`, 'budget_id')
    const created = await tx.budgets.insert({ budgetId, ...columns, createdBy: actor.principal.userId, updatedBy: actor.principal.userId })
    await recordChange(tx, actor, { action: 'created', tableName: 'budgets', objectId: budgetId, after: created })
    return created
  })
  return budgetResponse(row)
}

export async function updateBudget(deps: Deps, actor: ChangeActor, body: UpdateBudgetBody) {
  if (!body.budget_id) throw badRequest('budget_id is required', 'budget_id')
  const budgetId = body.budget_id
  checkBudgetLimits(body)
  const patch = budgetColumns(body)
  const row = await deps.repos.transaction(async (tx) => {
    const before = await tx.budgets.get(budgetId)
    if (!before) throw notFound(`Budget with id '${budgetId}' not found.`, 'budget_id')
    // A changed window length starts a fresh window now (§6.7) for every object on this row; the same value
    // again changes nothing.
    const durationChanged = patch.budgetDuration !== undefined && patch.budgetDuration !== before.budgetDuration
    if (durationChanged && patch.budgetResetAt === undefined) {
      patch.budgetResetAt = patch.budgetDuration ? addDuration(new Date(deps.clock.now()), patch.budgetDuration) : null
    }
    const after = (await tx.budgets.update(budgetId, { ...patch, updatedBy: actor.principal.userId }))!
    if (durationChanged && patch.budgetDuration) await tx.budgets.resetLinkedSpend(budgetId)
    await recordChange(tx, actor, { action: 'updated', tableName: 'budgets', objectId: budgetId, before, after })
    return after
  })
  await deps.invalidator.publish({ kind: 'budgets', id: budgetId })
  return budgetResponse(row)
}

/** Reads show the current window: an ended one is turned over first (§6.7). */
type ReadDeps = Deps & Pick<AppContext, 'budgets'>

export async function budgetInfo(deps: ReadDeps, budgetIds: string[]) {
  if (budgetIds.length === 0) throw badRequest("Specify list of budget id's to query. Passed in=[]", 'budgets')
  const rows = await deps.budgets.current.budgetRows(await deps.repos.budgets.getMany(budgetIds))
  return rows.map(budgetResponse)
}

export async function listBudgets(deps: ReadDeps) {
  return (await deps.budgets.current.budgetRows(await deps.repos.budgets.list())).map(budgetResponse)
}

export async function deleteBudget(deps: Deps, actor: ChangeActor, budgetId: string) {
  const row = await deps.repos.transaction(async (tx) => {
    const before = await tx.budgets.get(budgetId)
    if (!before) throw notFound(`Budget with id '${budgetId}' not found.`, 'id')
    const references = await tx.budgets.countReferences(budgetId)
    if (references > 0) throw badRequest(`Budget ${budgetId} is still referenced by ${references} objects`, 'id')
    await tx.budgets.delete(budgetId)
    await recordChange(tx, actor, { action: 'deleted', tableName: 'budgets', objectId: budgetId, before })
    return before
  })
  await deps.invalidator.publish({ kind: 'budgets', id: budgetId })
  return budgetResponse(row)
}

export async function budgetSettings(deps: Deps, budgetId: string) {
  const row = await deps.repos.budgets.get(budgetId)
  if (!row) throw notFound(`Budget with id '${budgetId}' not found.`, 'budget_id')
  const response = budgetResponse(row)
  return BUDGET_SETTING_FIELDS.map(([name, type, description]) => ({
    field_name: name,
    field_type: type,
    field_description: description,
    field_value: response[name],
    stored_in_db: true,
    field_default_value: null,
  }))
}
