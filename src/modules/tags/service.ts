/**
 * Tags (§5.7): create, update, read, list and delete, each tag with a budget row of its own when it has a
 * limit. Each change is one transaction with its audit rows, then the cached tag and budget row are evicted.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { Repositories, TagRow } from '../../db/ports'
import { badRequest, notFound, unprocessable } from '../../http/errors'
import { clientIdProblem } from '../../lib/ids'
import { budgetLimitPatch, checkBudgetLimits } from '../budgets/limits'
import { budgetsById } from '../shared/lookups'
import { deleteOwnedBudgets, saveOwnedBudget } from '../shared/owned-budget'
import { definedOnly } from '../shared/validate'
import { tagResponse, type NewTagBody, type UpdateTagBody } from './model'

export type TagDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator'>

const tagNotFound = (name: string) => notFound(`Tag ${name} not found`, 'name')
const tagInvalidation = (name: string): Invalidation => ({ kind: 'tags', id: name })

async function requireTag(tx: Pick<Repositories, 'tags'>, name: string): Promise<TagRow> {
  const tag = await tx.tags.get(name)
  if (!tag) throw tagNotFound(name)
  return tag
}

export async function createTag(deps: TagDeps, actor: ChangeActor, body: NewTagBody) {
  const idProblem = clientIdProblem(body.name)
  if (idProblem) throw unprocessable(`name: ${idProblem}`, 'name')
  checkBudgetLimits(body)
  const now = new Date(deps.clock.now())
  const by = actor.principal.userId
  const { row, budget } = await deps.repos.transaction(async (tx) => {
    if (await tx.tags.get(body.name)) throw badRequest(`Tag ${body.name} already exists`, 'name')
    const budget = (await saveOwnedBudget(tx, actor, now, null, budgetLimitPatch(body))).row
    const row = await tx.tags.insert({
      tagName: body.name,
      description: body.description ?? null,
      models: body.models ?? [],
      budgetId: budget?.budgetId ?? null,
      createdBy: by,
      updatedBy: by,
    })
    await recordChange(tx, actor, { action: 'created', tableName: 'tags', objectId: row.tagName, after: row })
    return { row, budget }
  })
  await deps.invalidator.publish(tagInvalidation(row.tagName))
  return tagResponse(row, budget)
}

export async function updateTag(deps: TagDeps, actor: ChangeActor, body: UpdateTagBody) {
  checkBudgetLimits(body)
  const now = new Date(deps.clock.now())
  const { row, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = await requireTag(tx, body.name)
    const own = await saveOwnedBudget(tx, actor, now, before.budgetId, budgetLimitPatch(body))
    // A new window length starts a fresh window: the tag's spend starts again from 0 (§6.7).
    if (own.windowRestarted) await tx.budgets.resetLinkedSpend(own.row!.budgetId)
    const patch = definedOnly({ description: body.description, models: body.models === null ? [] : body.models })
    const budgetId = own.row?.budgetId ?? null
    const row = (await tx.tags.update(before.tagName, { ...patch, budgetId, updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action: 'updated', tableName: 'tags', objectId: row.tagName, before, after: row })
    const invalidations: Invalidation[] = [tagInvalidation(row.tagName)]
    if (before.budgetId) invalidations.push({ kind: 'budgets', id: before.budgetId })
    return { row, budget: own.row, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return tagResponse(row, budget)
}

/** `/tag/info {names}` → `{name: tag}` for the tags that exist. */
/** Tag reads show the current window's spend (§6.7). */
type TagReadDeps = TagDeps & Pick<AppContext, 'budgets'>

export async function tagInfo(deps: TagReadDeps, names: readonly string[]) {
  const rows = await deps.budgets.current.tags(await deps.repos.tags.getMany(names))
  const budgets = await budgetsById(deps.repos, rows.map((row) => row.budgetId))
  return Object.fromEntries(rows.map((row) => [row.tagName, tagResponse(row, budgets.get(row.budgetId ?? '') ?? null)]))
}

export async function listTags(deps: TagReadDeps) {
  const rows = await deps.budgets.current.tags(await deps.repos.tags.list())
  const budgets = await budgetsById(deps.repos, rows.map((row) => row.budgetId))
  return rows.map((row) => tagResponse(row, budgets.get(row.budgetId ?? '') ?? null))
}

/** Deletes a tag and its own budget row. */
export async function deleteTag(deps: TagDeps, actor: ChangeActor, name: string) {
  const invalidations = await deps.repos.transaction(async (tx) => {
    const before = await requireTag(tx, name)
    await tx.tags.delete(name)
    await recordChange(tx, actor, { action: 'deleted', tableName: 'tags', objectId: name, before })
    const budgets = await deleteOwnedBudgets(tx, actor, [before.budgetId])
    return [tagInvalidation(name), ...budgets.map((id) => ({ kind: 'budgets' as const, id }))]
  })
  await deps.invalidator.publish(...invalidations)
  return { message: `Tag ${name} deleted successfully` }
}
