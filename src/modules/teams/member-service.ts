/**
 * Team members (§5.2): add (one or many, by id or email, creating missing users), delete and update, each with
 * the member's own budget row (`max_budget_in_team`, `budget_duration`, tpm/rpm limits).
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { Repositories, TeamMembershipRow, UserRow } from '../../db/ports'
import { ApiError, badRequest, notFound } from '../../http/errors'
import { pythonList } from '../../lib/python-float'
import { formatTimestamp } from '../../lib/time'
import { saveOwnedBudget } from '../shared/owned-budget'
import { checkDuration, checkMoney } from '../shared/validate'
import { findOrCreateUser, type UserReference } from '../users/find-or-create'
import { userResponse } from '../users/model'
import { deleteMembership, insertMembership, membershipInvalidation, membershipObjectId } from './memberships'
import { membershipResponse, teamResponse, type MemberAddBody, type MemberDeleteBody, type MemberUpdateBody } from './model'
import type { TeamDeps } from './service'
import { loadTeamView } from './team-views'
import { authorizeMembers, refuseSelfMemberUpdate } from './team-authz'

const eitherUser = () => badRequest('Either user_id or user_email needs to be passed in', 'user_id')
const notInTeam = () => badRequest('User not found in team', 'user_id')

function checkMemberBudget(body: { max_budget_in_team?: number | null; budget_duration?: string | null }): void {
  checkMoney('max_budget_in_team', body.max_budget_in_team)
  checkDuration('budget_duration', body.budget_duration)
}

async function requireTeamForMembers(tx: Repositories, teamId: string) {
  const team = await tx.teams.get(teamId)
  if (!team) throw notFound(`Team not found for team_id=${teamId}`, 'team_id')
  return team
}

/** The membership a `{user_id?|user_email?}` reference names in the team. */
async function findMembership(tx: Repositories, teamId: string, reference: UserReference): Promise<{ membership: TeamMembershipRow; user: UserRow | null }> {
  if (reference.user_id) {
    const membership = await tx.memberships.get({ userId: reference.user_id, teamId })
    if (!membership) throw notInTeam()
    return { membership, user: await tx.users.get(reference.user_id) }
  }
  for (const user of await tx.users.findByEmail(reference.user_email!)) {
    const membership = await tx.memberships.get({ userId: user.userId, teamId })
    if (membership) return { membership, user }
  }
  throw notInTeam()
}

export async function addMembers(deps: TeamDeps, actor: ChangeActor, body: MemberAddBody) {
  if (!body.team_id) throw badRequest('No team id passed in', 'team_id')
  const teamId = body.team_id
  const specs = body.member ? (Array.isArray(body.member) ? body.member : [body.member]) : []
  if (specs.length === 0) throw badRequest('No member/members passed in', 'member')
  checkMemberBudget(body)

  const configured = deps.settings.config.litellm_settings.default_internal_user_params?.available_teams
  const availableTeams = Array.isArray(configured) ? configured.filter((id): id is string => typeof id === 'string') : []
  const { view, users, memberships, invalidations } = await deps.repos.transaction(async (tx) => {
    authorizeMembers(actor.principal, await tx.teams.get(teamId), teamId, actor.route, {
      specs,
      availableTeams,
      budget: body.max_budget_in_team != null || body.budget_duration != null,
    })
    const team = await requireTeamForMembers(tx, teamId)
    const existing = (await tx.memberships.listByTeam(teamId)).map((m) => m.userId)
    const users: UserRow[] = []
    const memberships: TeamMembershipRow[] = []
    const invalidations: Invalidation[] = []
    for (const spec of specs) {
      const { user, created } = await findOrCreateUser(tx, deps.settings, actor, spec)
      if (existing.includes(user.userId)) {
        throw new ApiError(400, 'team_member_already_in_team', `User=${user.userId} already in team. Existing members=${pythonList(existing)}`, 'member')
      }
      const budget = { maxBudget: body.max_budget_in_team, budgetDuration: body.budget_duration }
      memberships.push(await insertMembership(tx, deps, actor, team, user, spec.role, budget))
      existing.push(user.userId)
      users.push(user)
      invalidations.push(membershipInvalidation(teamId, user.userId))
      if (created) invalidations.push({ kind: 'users', id: user.userId })
    }
    return { view: await loadTeamView(tx, team), users, memberships, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return {
    ...teamResponse(view),
    updated_users: users.map(userResponse),
    updated_team_memberships: memberships.map((m) => membershipResponse(m, view.budgets)),
  }
}

export async function deleteMember(deps: TeamDeps, actor: ChangeActor, body: MemberDeleteBody) {
  if (!body.user_id && !body.user_email) throw eitherUser()
  const { view, invalidations } = await deps.repos.transaction(async (tx) => {
    const team = await tx.teams.get(body.team_id)
    authorizeMembers(actor.principal, team, body.team_id, actor.route)
    if (!team) throw badRequest(`Team id=${body.team_id} does not exist in db`, 'team_id')
    const { membership } = await findMembership(tx, team.teamId, body)
    const invalidations = await deleteMembership(tx, actor, membership)
    return { view: await loadTeamView(tx, team), invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return teamResponse(view)
}

export async function updateMember(deps: TeamDeps, actor: ChangeActor, body: MemberUpdateBody) {
  if (!body.user_id && !body.user_email) throw eitherUser()
  checkMemberBudget(body)
  const now = new Date(deps.clock.now())
  const { membership, user, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    authorizeMembers(actor.principal, await tx.teams.get(body.team_id), body.team_id, actor.route)
    const team = await requireTeamForMembers(tx, body.team_id)
    const found = await findMembership(tx, team.teamId, body)
    const before = found.membership
    refuseSelfMemberUpdate(actor.principal, before.userId)
    const own = await saveOwnedBudget(tx, actor, now, before.budgetId, {
      maxBudget: body.max_budget_in_team,
      budgetDuration: body.budget_duration,
      tpmLimit: body.tpm_limit,
      rpmLimit: body.rpm_limit,
    })
    const budgetId = own.row?.budgetId ?? null
    const membershipId = { userId: before.userId, teamId: team.teamId }
    const patch = { role: body.role ?? undefined, budgetId: budgetId === before.budgetId ? undefined : budgetId }
    let membership = (await tx.memberships.update(membershipId, { ...patch, updatedBy: actor.principal.userId }))!
    // A new window length starts a fresh member window (§6.7).
    if (own.windowRestarted) {
      await tx.memberships.resetSpend(membershipId)
      membership = (await tx.memberships.get(membershipId))!
    }
    await recordChange(tx, actor, { action: 'updated', tableName: 'team_memberships', objectId: membershipObjectId(team.teamId, before.userId), before, after: membership })
    const invalidations: Invalidation[] = [membershipInvalidation(team.teamId, before.userId)]
    for (const id of new Set([before.budgetId, budgetId])) if (id) invalidations.push({ kind: 'budgets', id })
    return { membership, user: found.user, budget: own.row, invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return {
    team_id: membership.teamId,
    user_id: membership.userId,
    user_email: user?.userEmail ?? null,
    role: membership.role,
    max_budget_in_team: budget?.maxBudget ?? null,
    budget_duration: budget?.budgetDuration ?? null,
    budget_reset_at: formatTimestamp(budget?.budgetResetAt),
    tpm_limit: budget?.tpmLimit ?? null,
    rpm_limit: budget?.rpmLimit ?? null,
  }
}
