/**
 * Organizations (§5.5): create (with its budget row unless `budget_id` links a tier), update (budget fields
 * update the linked row), read, list and delete. Each change is one transaction with its audit rows, then the
 * cached organization and budget row are evicted. Members are in `member-service.ts`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import { isOrganizationAdmin, memberOrganizationIds } from '../../auth/object-access'
import { isAdminRole, isProxyAdmin, type Principal } from '../../auth/principal'
import type { Invalidation } from '../../cache/invalidation'
import type { KeyRow, OrganizationInsert, OrganizationRow, Patch, Repositories } from '../../db/ports'
import { badRequest, forbidden, notFound, unprocessable } from '../../http/errors'
import { clientIdProblem, newId } from '../../lib/ids'
import { budgetLimitPatch, checkBudgetLimits, checkEitherLimitsOrBudgetId } from '../budgets/limits'
import { keyInvalidations } from '../keys/key-rows'
import { requireBudget, requireOrganization } from '../shared/lookups'
import { composeMetadata } from '../shared/metadata'
import { saveOwnedBudget } from '../shared/owned-budget'
import { takeUnactedFields } from '../shared/unacted-fields'
import { definedOnly } from '../shared/validate'
import { deleteOrganizationMembership } from './memberships'
import {
  ORGANIZATION_UNACTED_FIELDS,
  organizationDetail,
  organizationResponse,
  type NewOrganizationBody,
  type UpdateOrganizationBody,
} from './model'
import { loadOrganizationView, loadOrganizationViews } from './views'

export type OrganizationDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'settings' | 'log'>

/** The organization's own row is always there: created even without limits, kept when they are cleared. */
const ORGANIZATION_BUDGET = { createEmpty: true, keepEmpty: true } as const

const organizationInvalidation = (organizationId: string): Invalidation => ({ kind: 'organizations', id: organizationId })

function checkOrganizationFields(body: NewOrganizationBody | UpdateOrganizationBody): void {
  checkBudgetLimits(body)
  checkEitherLimitsOrBudgetId(body)
}

function unactedOverlay(deps: OrganizationDeps, actor: ChangeActor, body: NewOrganizationBody | UpdateOrganizationBody) {
  return takeUnactedFields(body, ORGANIZATION_UNACTED_FIELDS, deps.log, actor.route)
}

export async function createOrganization(deps: OrganizationDeps, actor: ChangeActor, body: NewOrganizationBody) {
  if (!isProxyAdmin(actor.principal)) throw forbidden(`Only admins can create orgs. Your role is = ${actor.principal.role}`)
  const organizationId = body.organization_id ?? newId()
  const idProblem = clientIdProblem(organizationId)
  if (idProblem) throw unprocessable(`organization_id: ${idProblem}`, 'organization_id')
  checkOrganizationFields(body)
  const now = new Date(deps.clock.now())
  const metadata = composeMetadata({}, body.metadata, unactedOverlay(deps, actor, body)) ?? {}
  const by = actor.principal.userId

  const { organization, budget } = await deps.repos.transaction(async (tx) => {
    if (await tx.organizations.get(organizationId)) {
      throw badRequest(`Organization id = ${organizationId} already exists. Please use a different organization id.`, 'organization_id')
    }
    const budget = body.budget_id
      ? await requireBudget(tx, body.budget_id)
      : (await saveOwnedBudget(tx, actor, now, null, budgetLimitPatch(body), ORGANIZATION_BUDGET)).row!
    const organization = await tx.organizations.insert({
      organizationId,
      organizationAlias: body.organization_alias,
      budgetId: budget.budgetId,
      models: body.models ?? [],
      metadata,
      createdBy: by,
      updatedBy: by,
    })
    await recordChange(tx, actor, { action: 'created', tableName: 'organizations', objectId: organizationId, after: organization })
    return { organization, budget }
  })
  // A lookup of this id may have been cached as "no such organization" before it existed.
  await deps.invalidator.publish(organizationInvalidation(organizationId))
  return organizationResponse(organization, budget)
}

export async function updateOrganization(deps: OrganizationDeps, actor: ChangeActor, body: UpdateOrganizationBody) {
  checkOrganizationFields(body)
  const now = new Date(deps.clock.now())

  const { organization, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = await requireOrganization(tx, body.organization_id, 404)
    const patch: Patch<OrganizationInsert> = definedOnly({
      organizationAlias: body.organization_alias,
      models: body.models === null ? [] : body.models,
    })
    if (body.budget_id !== undefined && body.budget_id !== before.budgetId) patch.budgetId = (await requireBudget(tx, body.budget_id)).budgetId
    const linked = patch.budgetId ?? before.budgetId
    const own = await saveOwnedBudget(tx, actor, now, linked, budgetLimitPatch(body), ORGANIZATION_BUDGET)
    const budget = own.row!
    if (budget.budgetId !== linked) patch.budgetId = budget.budgetId
    // A new window length starts a fresh window for everything on the row, this organization included (§6.7).
    if (own.windowRestarted) await tx.budgets.resetLinkedSpend(budget.budgetId)
    const metadata = composeMetadata(before.metadata, body.metadata, unactedOverlay(deps, actor, body))
    if (metadata) patch.metadata = metadata
    const organization = (await tx.organizations.update(before.organizationId, { ...patch, updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action: 'updated', tableName: 'organizations', objectId: organization.organizationId, before, after: organization })
    const invalidations: Invalidation[] = [organizationInvalidation(organization.organizationId), { kind: 'budgets', id: budget.budgetId }]
    return { organization, budget, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return organizationResponse(organization, budget)
}

/**
 * The organization a request is about, if the caller may see it (admin roles, or a member in any role); else
 * the same 404 as for a missing one (§4).
 */
export async function visibleOrganization(repos: OrganizationDeps['repos'], principal: Principal, organizationId: string): Promise<OrganizationRow> {
  if (!isAdminRole(principal) && !memberOrganizationIds(principal).includes(organizationId)) {
    throw notFound(`Organization not found for organization_id=${organizationId}`, 'organization_id')
  }
  return requireOrganization(repos, organizationId, 404)
}

/** Members of an organization are managed by proxy admins and that organization's admins. */
export async function managedOrganization(repos: OrganizationDeps['repos'], principal: Principal, organizationId: string): Promise<OrganizationRow> {
  const organization = await visibleOrganization(repos, principal, organizationId)
  if (!isProxyAdmin(principal) && !isOrganizationAdmin(principal, organizationId)) {
    throw forbidden(`Only proxy admins and admins of organization=${organizationId} can manage its members`)
  }
  return organization
}

/** Organization reads show the current window's spend (§6.7). */
type OrganizationReadDeps = OrganizationDeps & Pick<AppContext, 'budgets'>

export async function organizationInfo(deps: OrganizationReadDeps, principal: Principal, organizationId: string) {
  const [organization] = await deps.budgets.current.organizations([await visibleOrganization(deps.repos, principal, organizationId)])
  return organizationDetail(await loadOrganizationView(deps.repos, organization))
}

export async function listOrganizations(deps: OrganizationReadDeps, principal: Principal) {
  const visible = await deps.repos.organizations.list(isAdminRole(principal) ? {} : { organizationIds: memberOrganizationIds(principal) })
  const organizations = await deps.budgets.current.organizations(visible)
  return (await loadOrganizationViews(deps.repos, organizations)).map(organizationDetail)
}

/**
 * Deletes organizations with their memberships; all or nothing. An organization that still has teams is
 * refused (delete or move them first); keys naming it lose the link. Its budget row stays: it may be a tier
 * other objects share, and `/budget/delete` removes it once nothing refers to it.
 */
export async function deleteOrganizations(deps: OrganizationDeps, actor: ChangeActor, organizationIds: readonly string[]) {
  const ids = [...new Set(organizationIds)]
  const { views, invalidations } = await deps.repos.transaction(async (tx) => {
    const organizations: OrganizationRow[] = []
    for (const id of ids) organizations.push(await requireOrganization(tx, id, 404))
    for (const organization of organizations) {
      const { total } = await tx.teams.list({ organizationId: organization.organizationId }, { offset: 0, limit: 1 })
      if (total > 0) throw badRequest(`Organization ${organization.organizationId} still has ${total} teams`, 'organization_ids')
    }
    const views = await loadOrganizationViews(tx, organizations)
    const invalidations: Invalidation[] = []
    for (const organization of organizations) invalidations.push(...(await deleteOrganizationRow(tx, actor, organization)))
    return { views, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return views.map(organizationDetail)
}

async function deleteOrganizationRow(tx: Repositories, actor: ChangeActor, organization: OrganizationRow): Promise<Invalidation[]> {
  const { organizationId } = organization
  const invalidations: Invalidation[] = [organizationInvalidation(organizationId)]
  for (const membership of await tx.organizationMemberships.listByOrganization(organizationId)) {
    invalidations.push(...(await deleteOrganizationMembership(tx, actor, membership)))
  }
  for (const key of await keysOfOrganization(tx, organizationId)) {
    const after = await tx.keys.update(key.token, { organizationId: null, updatedBy: actor.principal.userId })
    await recordChange(tx, actor, { action: 'updated', tableName: 'keys', objectId: key.token, before: key, after })
    invalidations.push(...(await keyInvalidations(tx, key.token)))
  }
  await tx.organizations.delete(organizationId)
  await recordChange(tx, actor, { action: 'deleted', tableName: 'organizations', objectId: organizationId, before: organization })
  return invalidations
}

async function keysOfOrganization(tx: Repositories, organizationId: string): Promise<KeyRow[]> {
  const keys: KeyRow[] = []
  for (let offset = 0; ; offset += 500) {
    const { rows } = await tx.keys.list({ organizationId }, { offset, limit: 500 })
    keys.push(...rows)
    if (rows.length < 500) return keys
  }
}
