/**
 * Team memberships, the single source of truth for who is in a team (§11): adding a member (creating the user
 * when missing), removing one with their own budget row, replacing the whole set from `members_with_roles`,
 * and restarting members' windows when the window they follow changes.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import { membershipCacheId } from '../../cache/entity-caches'
import type { Invalidation } from '../../cache/invalidation'
import type { Repositories, TeamMembershipRow, TeamRow, UserRow } from '../../db/ports'
import { deleteOwnedBudgets, saveOwnedBudget, type OwnedBudgetPatch } from '../shared/owned-budget'
import { findOrCreateUser } from '../users/find-or-create'
import type { MemberSpec, TeamFields } from './model'

export type MemberDeps = Pick<AppContext, 'settings' | 'clock'>

export const membershipObjectId = (teamId: string, userId: string) => `${teamId}:${userId}`

export function membershipInvalidation(teamId: string, userId: string): Invalidation {
  return { kind: 'memberships', id: membershipCacheId(teamId, userId) }
}

/** What a team body says about members (`members_with_roles` plus legacy `admins`/`members`); undefined = nothing. */
export function memberSpecs(body: Pick<TeamFields, 'members_with_roles' | 'admins' | 'members'>): MemberSpec[] | undefined {
  if (body.members_with_roles === undefined && body.admins === undefined && body.members === undefined) return undefined
  return [
    ...(body.members_with_roles ?? []),
    ...(body.admins ?? []).map((userId) => ({ user_id: userId, role: 'admin' as const })),
    ...(body.members ?? []).map((userId) => ({ user_id: userId, role: 'user' as const })),
  ]
}

export type MemberChange = { user: UserRow; userCreated: boolean; membership: TeamMembershipRow }

export async function insertMembership(
  tx: Repositories,
  deps: MemberDeps,
  actor: ChangeActor,
  team: TeamRow,
  user: UserRow,
  role: 'admin' | 'user',
  budget: OwnedBudgetPatch = {},
): Promise<TeamMembershipRow> {
  const own = await saveOwnedBudget(tx, actor, new Date(deps.clock.now()), null, budget)
  const by = actor.principal.userId
  const membership = await tx.memberships.insert({
    userId: user.userId,
    teamId: team.teamId,
    role,
    budgetId: own.row?.budgetId ?? null,
    createdBy: by,
    updatedBy: by,
  })
  await recordChange(tx, actor, { action: 'created', tableName: 'team_memberships', objectId: membershipObjectId(team.teamId, user.userId), after: membership })
  return membership
}

export async function deleteMembership(tx: Repositories, actor: ChangeActor, membership: TeamMembershipRow): Promise<Invalidation[]> {
  await tx.memberships.delete({ userId: membership.userId, teamId: membership.teamId })
  await recordChange(tx, actor, {
    action: 'deleted',
    tableName: 'team_memberships',
    objectId: membershipObjectId(membership.teamId, membership.userId),
    before: membership,
  })
  const budgets = await deleteOwnedBudgets(tx, actor, [membership.budgetId])
  return [membershipInvalidation(membership.teamId, membership.userId), ...budgets.map((id) => ({ kind: 'budgets' as const, id }))]
}

/**
 * Makes the team's members exactly `specs` (on `/team/new` and when `/team/update` names members): missing users
 * are created, roles updated, members not named removed. A user named twice is an admin if either entry says so.
 */
export async function replaceMembers(tx: Repositories, deps: MemberDeps, actor: ChangeActor, team: TeamRow, specs: readonly MemberSpec[]) {
  const wanted = new Map<string, { user: UserRow; role: 'admin' | 'user' }>()
  const invalidations: Invalidation[] = []
  for (const spec of specs) {
    const { user, created } = await findOrCreateUser(tx, deps.settings, actor, spec)
    if (created) invalidations.push({ kind: 'users', id: user.userId })
    const role = wanted.get(user.userId)?.role === 'admin' ? 'admin' : spec.role
    wanted.set(user.userId, { user, role })
  }
  const existing = await tx.memberships.listByTeam(team.teamId)
  for (const membership of existing) {
    const target = wanted.get(membership.userId)
    if (!target) {
      invalidations.push(...(await deleteMembership(tx, actor, membership)))
    } else if (target.role !== membership.role) {
      const after = await tx.memberships.update({ userId: membership.userId, teamId: team.teamId }, { role: target.role, updatedBy: actor.principal.userId })
      await recordChange(tx, actor, { action: 'updated', tableName: 'team_memberships', objectId: membershipObjectId(team.teamId, membership.userId), before: membership, after })
      invalidations.push(membershipInvalidation(team.teamId, membership.userId))
    }
  }
  const present = new Set(existing.map((m) => m.userId))
  for (const { user, role } of wanted.values()) {
    if (present.has(user.userId)) continue
    await insertMembership(tx, deps, actor, team, user, role)
    invalidations.push(membershipInvalidation(team.teamId, user.userId))
  }
  return invalidations
}

/**
 * A member's window is their own `budget_duration`, else the team's member default, else the team's (§6.7).
 * When the window a member follows starts afresh, so does their spend. `level` says which window changed.
 */
export async function restartInheritedWindows(tx: Repositories, team: TeamRow, level: 'team' | 'member_default'): Promise<Invalidation[]> {
  const memberships = await tx.memberships.listByTeam(team.teamId)
  const ownRows = await tx.budgets.getMany(memberships.map((m) => m.budgetId).filter((id): id is string => id !== null))
  const withOwnWindow = new Set(ownRows.filter((row) => row.budgetDuration).map((row) => row.budgetId))
  const teamDefault = team.teamMemberBudgetId ? await tx.budgets.get(team.teamMemberBudgetId) : null
  const followsTeam = level === 'team' && !teamDefault?.budgetDuration
  const invalidations: Invalidation[] = []
  for (const membership of memberships) {
    if (membership.budgetId && withOwnWindow.has(membership.budgetId)) continue
    if (level === 'team' && !followsTeam) continue
    await tx.memberships.resetSpend({ userId: membership.userId, teamId: team.teamId })
    invalidations.push(membershipInvalidation(team.teamId, membership.userId))
  }
  return invalidations
}
