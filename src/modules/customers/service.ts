/**
 * Customers / end users (§5.7): create, update, read, list, delete, block and unblock. Limits live on the end
 * user's budget row: its own (created from `max_budget`, `tpm_limit`, …) or a tier linked by `budget_id`.
 * Each change is one transaction with its audit rows, then the cached end user and budget row are evicted so
 * the next request sees it (a block refuses the next request naming that end user).
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { BudgetRow, EndUserInsert, EndUserRow, Patch, Repositories } from '../../db/ports'
import { badRequest, notFound, unprocessable } from '../../http/errors'
import { clientIdProblem } from '../../lib/ids'
import { pythonList } from '../../lib/python-float'
import { budgetLimitPatch, checkBudgetLimits, checkEitherLimitsOrBudgetId } from '../budgets/limits'
import { budgetsById, requireBudget } from '../shared/lookups'
import { composeMetadata } from '../shared/metadata'
import { configuredModelNames } from '../shared/model-names'
import { saveOwnedBudget } from '../shared/owned-budget'
import { checkMoney, definedOnly } from '../shared/validate'
import { customerResponse, type NewCustomerBody, type UpdateCustomerBody } from './model'

export type CustomerDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'settings'>

/** The row may be a tier other objects share: clearing its limits never deletes it. */
const LINKED_BUDGET = { keepEmpty: true } as const

const endUserMissing = (userId: string) => notFound(`End User Id=${userId} does not exist in db`, 'user_id')
const endUserInvalidation = (userId: string): Invalidation => ({ kind: 'endUsers', id: userId })

function checkCustomerFields(deps: CustomerDeps, body: NewCustomerBody | UpdateCustomerBody): void {
  checkEitherLimitsOrBudgetId(body)
  checkBudgetLimits(body)
  checkMoney('spend', body.spend)
  if (body.default_model && !configuredModelNames(deps.settings).includes(body.default_model)) {
    throw badRequest(`Default Model not on proxy: ${body.default_model}`, 'default_model')
  }
}

function customerColumns(body: NewCustomerBody | UpdateCustomerBody): Patch<EndUserInsert> {
  return definedOnly({
    alias: body.alias,
    blocked: body.blocked ?? undefined,
    allowedModelRegion: body.allowed_model_region,
    defaultModel: body.default_model,
    spend: body.spend,
  })
}

async function budgetOf(tx: Pick<Repositories, 'budgets'>, row: EndUserRow): Promise<BudgetRow | null> {
  return row.budgetId ? tx.budgets.get(row.budgetId) : null
}

export async function createCustomer(deps: CustomerDeps, actor: ChangeActor, body: NewCustomerBody) {
  const idProblem = clientIdProblem(body.user_id)
  if (idProblem) throw unprocessable(`user_id: ${idProblem}`, 'user_id')
  checkCustomerFields(deps, body)
  const now = new Date(deps.clock.now())
  const by = actor.principal.userId

  const { row, budget } = await deps.repos.transaction(async (tx) => {
    if (await tx.endUsers.get(body.user_id)) {
      throw badRequest(`Customer already exists, passed user_id=${body.user_id}. Please pass a new user_id.`, 'user_id')
    }
    const budget = body.budget_id
      ? await requireBudget(tx, body.budget_id)
      : (await saveOwnedBudget(tx, actor, now, null, budgetLimitPatch(body), LINKED_BUDGET)).row
    const row = await tx.endUsers.insert({
      ...customerColumns(body),
      userId: body.user_id,
      budgetId: budget?.budgetId ?? null,
      metadata: body.metadata ?? {},
      createdBy: by,
      updatedBy: by,
    })
    await recordChange(tx, actor, { action: 'created', tableName: 'end_users', objectId: row.userId, after: row })
    return { row, budget }
  })
  // A lookup of this id may have been cached as "not seen yet" before it existed.
  await deps.invalidator.publish(endUserInvalidation(row.userId))
  return customerResponse(row, budget)
}

/** Partial update; budget fields change the linked row (created when there is none), `budget_id` re-links. */
export async function updateCustomer(deps: CustomerDeps, actor: ChangeActor, body: UpdateCustomerBody) {
  checkCustomerFields(deps, body)
  const now = new Date(deps.clock.now())
  const { row, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = await tx.endUsers.get(body.user_id)
    if (!before) throw endUserMissing(body.user_id)
    const patch = customerColumns(body)
    if (body.budget_id !== undefined && body.budget_id !== before.budgetId) {
      patch.budgetId = body.budget_id === null ? null : (await requireBudget(tx, body.budget_id)).budgetId
    }
    const linked = patch.budgetId === undefined ? before.budgetId : patch.budgetId
    const own = await saveOwnedBudget(tx, actor, now, linked, budgetLimitPatch(body), LINKED_BUDGET)
    if ((own.row?.budgetId ?? null) !== linked) patch.budgetId = own.row?.budgetId ?? null
    // A new window length starts a fresh window for everything on the row, this end user included (§6.7).
    if (own.windowRestarted) await tx.budgets.resetLinkedSpend(own.row!.budgetId)
    const metadata = composeMetadata(before.metadata, body.metadata, {})
    if (metadata) patch.metadata = metadata
    const row = (await tx.endUsers.update(before.userId, { ...patch, updatedBy: actor.principal.userId }))!
    const action = row.blocked === before.blocked ? 'updated' : row.blocked ? 'blocked' : 'unblocked'
    await recordChange(tx, actor, { action, tableName: 'end_users', objectId: row.userId, before, after: row })
    const invalidations: Invalidation[] = [endUserInvalidation(row.userId)]
    for (const id of new Set([before.budgetId, row.budgetId])) if (id) invalidations.push({ kind: 'budgets', id })
    return { row, budget: own.row, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return customerResponse(row, budget)
}

/** End-user reads show the current window's spend (§6.7). */
type CustomerReadDeps = CustomerDeps & Pick<AppContext, 'budgets'>

export async function customerInfo(deps: CustomerReadDeps, userId: string) {
  const found = await deps.repos.endUsers.get(userId)
  if (!found) throw endUserMissing(userId)
  const [row] = await deps.budgets.current.endUsers([found])
  return customerResponse(row, await budgetOf(deps.repos, row))
}

export async function listCustomers(deps: CustomerReadDeps) {
  const rows = await deps.budgets.current.endUsers(await deps.repos.endUsers.list())
  const budgets = await budgetsById(deps.repos, rows.map((row) => row.budgetId))
  return rows.map((row) => customerResponse(row, budgets.get(row.budgetId ?? '') ?? null))
}

/** The end users `ids` name, in that order; any missing one and the whole request is refused (404). */
async function requireEndUsers(tx: Repositories, ids: readonly string[]): Promise<EndUserRow[]> {
  const rows = new Map((await tx.endUsers.getMany(ids)).map((row) => [row.userId, row]))
  const missing = ids.filter((id) => !rows.has(id))
  if (missing.length > 0) throw notFound(`End User Id(s)=${missing.join(', ')} do not exist in db`, 'user_ids')
  return ids.map((id) => rows.get(id)!)
}

/** Deletes end users, all or nothing. A budget row stays: it may be a shared tier (`/budget/delete` removes it). */
export async function deleteCustomers(deps: CustomerDeps, actor: ChangeActor, userIds: readonly string[]) {
  const ids = [...new Set(userIds)]
  await deps.repos.transaction(async (tx) => {
    for (const row of await requireEndUsers(tx, ids)) {
      await tx.endUsers.delete(row.userId)
      await recordChange(tx, actor, { action: 'deleted', tableName: 'end_users', objectId: row.userId, before: row })
    }
  })
  await deps.invalidator.publish(...ids.map(endUserInvalidation))
  return { deleted_customers: ids.length, message: `Successfully deleted customers with ids: ${pythonList(ids)}` }
}

/**
 * Blocks end users, creating the ones not seen yet (so an id can be refused before its first request, as
 * LiteLLM does), or unblocks existing ones (all or nothing).
 */
export async function setCustomersBlocked(deps: CustomerDeps, actor: ChangeActor, userIds: readonly string[], blocked: boolean) {
  const ids = [...new Set(userIds)]
  const by = actor.principal.userId
  await deps.repos.transaction(async (tx) => {
    const existing = blocked ? await tx.endUsers.getMany(ids) : await requireEndUsers(tx, ids)
    const rows = new Map(existing.map((row) => [row.userId, row]))
    for (const id of ids) {
      const before = rows.get(id) ?? null
      if (before?.blocked === blocked) continue
      const after = before
        ? (await tx.endUsers.update(id, { blocked, updatedBy: by }))!
        : await tx.endUsers.insert({ userId: id, blocked, metadata: {}, createdBy: by, updatedBy: by })
      await recordChange(tx, actor, { action: blocked ? 'blocked' : 'unblocked', tableName: 'end_users', objectId: id, before, after })
    }
  })
  await deps.invalidator.publish(...ids.map(endUserInvalidation))
  return blocked ? { blocked_users: ids } : { unblocked_users: ids }
}
