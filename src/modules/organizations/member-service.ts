/**
 * Organization members (§5.5): add (one or many, by id or email, creating missing users), update the role,
 * delete. `max_budget_in_organization` is accepted and kept on the member's own budget row, but no request is
 * checked against it (§5 lists it among the fields Tollgate does not act on).
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { BudgetRow, OrganizationMembershipRow, Repositories, UserRow } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { saveOwnedBudget } from '../shared/owned-budget'
import { takeUnactedFields } from '../shared/unacted-fields'
import { checkMoney } from '../shared/validate'
import { findOrCreateUser, type UserReference } from '../users/find-or-create'
import { userResponse } from '../users/model'
import { deleteOrganizationMembership, insertOrganizationMembership, organizationMembershipObjectId, organizationRole } from './memberships'
import { organizationMembershipResponse, type OrgMemberAddBody, type OrgMemberDeleteBody, type OrgMemberUpdateBody } from './model'
import { managedOrganization, type OrganizationDeps } from './service'

const eitherUser = () => badRequest('Either user_id or user_email needs to be passed in', 'user_id')

function takeMemberBudget(deps: OrganizationDeps, actor: ChangeActor, body: { max_budget_in_organization?: number | null }) {
  checkMoney('max_budget_in_organization', body.max_budget_in_organization)
  takeUnactedFields(body, ['max_budget_in_organization'], deps.log, actor.route)
  return { maxBudget: body.max_budget_in_organization }
}

/** The membership a `{user_id?|user_email?}` reference names in the organization. */
async function findOrganizationMembership(tx: Repositories, organizationId: string, reference: UserReference) {
  const users = reference.user_id
    ? [await tx.users.get(reference.user_id)].filter((user): user is UserRow => user !== null)
    : await tx.users.findByEmail(reference.user_email!)
  for (const user of users) {
    const membership = await tx.organizationMemberships.get({ userId: user.userId, organizationId })
    if (membership) return { membership, user }
  }
  throw badRequest('User not found in organization', 'user_id')
}

async function budgetOf(tx: Repositories, membership: OrganizationMembershipRow): Promise<BudgetRow | null> {
  return membership.budgetId ? tx.budgets.get(membership.budgetId) : null
}

export async function addOrganizationMembers(deps: OrganizationDeps, actor: ChangeActor, body: OrgMemberAddBody) {
  const specs = Array.isArray(body.member) ? body.member : [body.member]
  if (specs.length === 0) throw badRequest('No member/members passed in', 'member')
  const roles = specs.map((spec) => organizationRole(spec.role))
  const budget = takeMemberBudget(deps, actor, body)

  const { users, memberships, invalidations } = await deps.repos.transaction(async (tx) => {
    const organization = await managedOrganization(tx, actor.principal, body.organization_id)
    const users: UserRow[] = []
    const memberships: { membership: OrganizationMembershipRow; user: UserRow; budget: BudgetRow | null }[] = []
    const invalidations: Invalidation[] = []
    for (const [index, spec] of specs.entries()) {
      const { user, created } = await findOrCreateUser(tx, deps.settings, actor, spec)
      const membership = await insertOrganizationMembership(tx, deps, actor, organization, user, roles[index], budget)
      users.push(user)
      memberships.push({ membership, user, budget: await budgetOf(tx, membership) })
      if (created) invalidations.push({ kind: 'users', id: user.userId })
    }
    return { users, memberships, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return {
    organization_id: body.organization_id,
    updated_users: users.map(userResponse),
    updated_organization_memberships: memberships.map((m) => organizationMembershipResponse(m.membership, m.user, m.budget)),
  }
}

export async function updateOrganizationMember(deps: OrganizationDeps, actor: ChangeActor, body: OrgMemberUpdateBody) {
  if (!body.user_id && !body.user_email) throw eitherUser()
  const role = body.role === undefined || body.role === null ? undefined : organizationRole(body.role)
  const budget = takeMemberBudget(deps, actor, body)
  const now = new Date(deps.clock.now())

  const { membership, user, row, invalidations } = await deps.repos.transaction(async (tx) => {
    await managedOrganization(tx, actor.principal, body.organization_id)
    const found = await findOrganizationMembership(tx, body.organization_id, body)
    const before = found.membership
    const own = await saveOwnedBudget(tx, actor, now, before.budgetId, budget)
    const budgetId = own.row?.budgetId ?? null
    const id = { userId: before.userId, organizationId: before.organizationId }
    const patch = { userRole: role, budgetId: budgetId === before.budgetId ? undefined : budgetId }
    const membership = (await tx.organizationMemberships.update(id, { ...patch, updatedBy: actor.principal.userId }))!
    const objectId = organizationMembershipObjectId(before.organizationId, before.userId)
    await recordChange(tx, actor, { action: 'updated', tableName: 'organization_memberships', objectId, before, after: membership })
    const invalidations: Invalidation[] = [...new Set([before.budgetId, budgetId])].filter((b): b is string => b !== null).map((b) => ({ kind: 'budgets', id: b }))
    return { membership, user: found.user, row: own.row, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return organizationMembershipResponse(membership, user, row)
}

export async function deleteOrganizationMember(deps: OrganizationDeps, actor: ChangeActor, body: OrgMemberDeleteBody) {
  if (!body.user_id && !body.user_email) throw eitherUser()
  const { membership, user, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    await managedOrganization(tx, actor.principal, body.organization_id)
    const { membership, user } = await findOrganizationMembership(tx, body.organization_id, body)
    const budget = await budgetOf(tx, membership)
    return { membership, user, budget, invalidations: await deleteOrganizationMembership(tx, actor, membership) }
  })
  await deps.invalidator.publish(...invalidations)
  return organizationMembershipResponse(membership, user, budget)
}
