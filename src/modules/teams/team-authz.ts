/**
 * Who may do what to a team (§4): admin roles read every team; members read theirs; a team's admin manages
 * its members, models, permissions and keys and may keep or lower its limits; its organization's admin also
 * creates, deletes, blocks and moves it (within their own organizations). A team the caller cannot see answers
 * exactly as a missing one. Proxy admins skip every check here.
 */
import { checkCeiling, fieldRefused, refuseChangedFields, refuseRemovedCap } from '../../auth/field-rules'
import { adminOrganizationIds, canAdministerTeam, canManageTeam, canReadTeam, isOrganizationAdmin } from '../../auth/object-access'
import { isProxyAdmin, type Principal } from '../../auth/principal'
import type { Repositories, TeamRow } from '../../db/ports'
import { badRequest, forbidden } from '../../http/errors'
import { pythonFloat, pythonList } from '../../lib/python-float'
import { teamNotFound } from '../shared/lookups'
import type { MemberSpec, NewTeamBody, TeamFields } from './model'

/** The team, if the caller may see it; else the same error as for a missing team. */
export function visibleTeam(principal: Principal, team: TeamRow | null, teamId: string, missing = teamNotFound): TeamRow {
  if (!team || !canReadTeam(principal, team)) throw missing(teamId)
  return team
}

/** A team the caller may see but not manage: 403 with `denied`. */
export function requireManager(principal: Principal, team: TeamRow, denied: string): void {
  if (!canManageTeam(principal, team)) throw forbidden(denied)
}

export function requireTeamAdministrator(principal: Principal, team: TeamRow, action: string): void {
  if (!canAdministerTeam(principal, team)) {
    throw forbidden(`Only proxy admins and admins of the team's organization can ${action} a team. team_id=${team.teamId}`)
  }
}

/** Team fields no caller other than a proxy admin sets. */
const ADMIN_ONLY_TEAM_FIELDS = ['spend', 'budget_reset_at'] as const

const TEAM_LIMITS = [
  ['max_budget', 'maxBudget'],
  ['soft_budget', 'softBudget'],
  ['tpm_limit', 'tpmLimit'],
  ['rpm_limit', 'rpmLimit'],
  ['max_parallel_requests', 'maxParallelRequests'],
] as const

function checkOrganizationChoice(principal: Principal, organizationId: string | null | undefined): void {
  if (organizationId && isOrganizationAdmin(principal, organizationId)) return
  throw fieldRefused('organization_id', 'an organization admin may only choose an organization they administer')
}

/**
 * `/team/new` by an org admin: the team goes into an organization they administer (the only one when they
 * administer one and name none), nothing admin-only is set, and the limits stay within the creator's own
 * (LiteLLM's 400s). Returns the body to create, with the creator as the team's admin.
 */
export async function authorizeNewTeam(tx: Pick<Repositories, 'users'>, principal: Principal, body: NewTeamBody): Promise<NewTeamBody> {
  if (isProxyAdmin(principal)) return body
  const organizations = adminOrganizationIds(principal)
  const organizationId = body.organization_id === undefined && organizations.length === 1 ? organizations[0] : body.organization_id
  checkOrganizationChoice(principal, organizationId)
  refuseChangedFields(body as Record<string, unknown>, ADMIN_ONLY_TEAM_FIELDS, { spend: 0 })
  const creator = principal.userId ? await tx.users.get(principal.userId) : null
  if (creator) {
    if (body.tpm_limit != null && creator.tpmLimit !== null && body.tpm_limit > creator.tpmLimit) {
      throw badRequest(`tpm limit higher than user max. User tpm limit=${creator.tpmLimit}`, 'tpm_limit')
    }
    if (body.rpm_limit != null && creator.rpmLimit !== null && body.rpm_limit > creator.rpmLimit) {
      throw badRequest(`rpm limit higher than user max. User rpm limit=${creator.rpmLimit}`, 'rpm_limit')
    }
    if (body.max_budget != null && creator.maxBudget !== null && body.max_budget > creator.maxBudget) {
      throw badRequest(`max budget higher than user max. User max budget=${pythonFloat(creator.maxBudget)}`, 'max_budget')
    }
    const outside = (body.models ?? []).filter((model) => creator.models.length > 0 && !creator.models.includes(model))
    if (outside.length > 0) throw badRequest(`Model not in allowed user models. User allowed models=${pythonList(creator.models)}`, 'models')
  }
  // A non-admin creator is the team's admin (§5.1).
  const creatorSpec: MemberSpec[] = principal.userId ? [{ user_id: principal.userId, role: 'admin' }] : []
  return { ...body, organization_id: organizationId, members_with_roles: [...(body.members_with_roles ?? []), ...creatorSpec] }
}

/**
 * `/team/update` by a team's admin or its organization's admin. Team admins may keep or lower its limits (and
 * those of its default member budget) but not move, block, or restart its window; organization admins may move
 * it only between organizations they administer. No one but a proxy admin removes a cap.
 */
export async function authorizeTeamUpdate(tx: Pick<Repositories, 'budgets'>, principal: Principal, before: TeamRow, body: TeamFields): Promise<void> {
  if (isProxyAdmin(principal)) return
  refuseChangedFields(body as Record<string, unknown>, ADMIN_ONLY_TEAM_FIELDS, {
    spend: before.spend,
    budget_reset_at: before.budgetResetAt?.toISOString() ?? null,
  })
  for (const [field, column] of TEAM_LIMITS) refuseRemovedCap(field, body[field], before[column])
  if (canAdministerTeam(principal, before)) {
    if (body.organization_id !== undefined && body.organization_id !== before.organizationId) checkOrganizationChoice(principal, body.organization_id)
    return
  }
  refuseChangedFields(
    body as Record<string, unknown>,
    ['organization_id', 'blocked', 'budget_duration', 'team_member_budget_duration'],
    { organization_id: before.organizationId, blocked: before.blocked, budget_duration: before.budgetDuration },
    "a team admin may not move, block or restart the team's window",
  )
  const owner = `team=${before.teamId}`
  for (const [field, column] of TEAM_LIMITS) checkCeiling(field, body[field], before[column], owner)
  const memberDefault = before.teamMemberBudgetId ? await tx.budgets.get(before.teamMemberBudgetId) : null
  const memberLimits = [
    ['team_member_budget', body.team_member_budget, memberDefault?.maxBudget],
    ['team_member_tpm_limit', body.team_member_tpm_limit, memberDefault?.tpmLimit],
    ['team_member_rpm_limit', body.team_member_rpm_limit, memberDefault?.rpmLimit],
  ] as const
  for (const [field, value, ceiling] of memberLimits) {
    refuseRemovedCap(field, value, ceiling)
    checkCeiling(field, value, ceiling, owner)
  }
}

const memberCallRefused = (route: string, teamId: string) =>
  forbidden(`Call not allowed. User not proxy admin OR team admin. route=${route}, team_id=${teamId}`)

/**
 * `/team/member_*`: the team's admin or its organization's admin. An internal user may only add themselves, as
 * a plain member, to a team listed in `default_internal_user_params.available_teams`. A missing team answers as
 * one the caller may not manage.
 */
export function authorizeMembers(
  principal: Principal,
  team: TeamRow | null,
  teamId: string,
  route: string,
  selfJoin?: { specs: readonly { user_id?: string | null; user_email?: string | null; role?: string | null }[]; availableTeams: readonly string[]; budget: boolean },
): void {
  if (isProxyAdmin(principal)) return
  if (team && canManageTeam(principal, team)) return
  const joinsItself =
    selfJoin &&
    team &&
    principal.role === 'internal_user' &&
    principal.userId !== null &&
    selfJoin.availableTeams.includes(team.teamId) &&
    !selfJoin.budget &&
    selfJoin.specs.every((spec) => spec.user_id === principal.userId && (spec.role ?? 'user') === 'user')
  if (!joinsItself) throw memberCallRefused(route, teamId)
}

/** Nobody but a proxy admin changes their own membership (role, budget, limits): no self-promotion, no raise. */
export function refuseSelfMemberUpdate(principal: Principal, userId: string): void {
  if (!isProxyAdmin(principal) && userId === principal.userId) {
    throw fieldRefused('role/max_budget_in_team/budget_duration/tpm_limit/rpm_limit', 'nobody changes their own team membership')
  }
}
