/**
 * Organization memberships: adding a user with a role (and, with `max_budget_in_organization`, a budget row of
 * their own), and removing one with that row. Shared by `/organization/member_*`, `/user/new` and `/user/delete`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { OrganizationMembershipRow, OrganizationRow, Repositories, UserRow } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { pythonList } from '../../lib/python-float'
import { deleteOwnedBudgets, saveOwnedBudget, type OwnedBudgetPatch } from '../shared/owned-budget'
import { ORGANIZATION_ROLES, type OrganizationRole } from './model'

export const organizationMembershipObjectId = (organizationId: string, userId: string) => `${organizationId}:${userId}`

/** A role as the client sent it: one of the organization roles, else the contract's 400. */
export function organizationRole(role: string): OrganizationRole {
  if ((ORGANIZATION_ROLES as readonly string[]).includes(role)) return role as OrganizationRole
  throw badRequest(`Invalid role. Must be one of: ${pythonList(ORGANIZATION_ROLES)}`, 'role')
}

export async function insertOrganizationMembership(
  tx: Repositories,
  deps: Pick<AppContext, 'clock'>,
  actor: ChangeActor,
  organization: OrganizationRow,
  user: UserRow,
  role: OrganizationRole,
  budget: OwnedBudgetPatch = {},
): Promise<OrganizationMembershipRow> {
  const { organizationId } = organization
  if (await tx.organizationMemberships.get({ userId: user.userId, organizationId })) {
    throw badRequest(`User=${user.userId} is already a member of organization=${organizationId}`, 'member')
  }
  const own = await saveOwnedBudget(tx, actor, new Date(deps.clock.now()), null, budget)
  const by = actor.principal.userId
  const membership = await tx.organizationMemberships.insert({
    userId: user.userId,
    organizationId,
    userRole: role,
    budgetId: own.row?.budgetId ?? null,
    createdBy: by,
    updatedBy: by,
  })
  const objectId = organizationMembershipObjectId(organizationId, user.userId)
  await recordChange(tx, actor, { action: 'created', tableName: 'organization_memberships', objectId, after: membership })
  return membership
}

export async function deleteOrganizationMembership(tx: Repositories, actor: ChangeActor, membership: OrganizationMembershipRow): Promise<Invalidation[]> {
  await tx.organizationMemberships.delete({ userId: membership.userId, organizationId: membership.organizationId })
  const objectId = organizationMembershipObjectId(membership.organizationId, membership.userId)
  await recordChange(tx, actor, { action: 'deleted', tableName: 'organization_memberships', objectId, before: membership })
  const budgets = await deleteOwnedBudgets(tx, actor, [membership.budgetId])
  return budgets.map((id) => ({ kind: 'budgets' as const, id }))
}
