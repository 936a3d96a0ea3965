/**
 * Reading users (§5.4): `/user/info` (any principal for themselves; admin roles for anyone), `/v2/user/info`,
 * `/user/list` and `/user/available_roles`.
 */
import type { AppContext } from '../../app-context'
import { adminOrganizationIds, adminTeamIds } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { Repositories, TeamRow, UserRow, UserSortColumn } from '../../db/ports'
import { notFound } from '../../http/errors'
import { formatTimestamp } from '../../lib/time'
import { keyBudgets } from '../keys/key-rows'
import { keyResponse } from '../keys/model'
import { organizationMembershipResponse } from '../organizations/model'
import { totalPages } from '../shared/fields'
import { budgetsById } from '../shared/lookups'
import { teamResponse } from '../teams/model'
import { loadTeamViews } from '../teams/team-views'
import { AVAILABLE_ROLES, userResponse, userWithMemberships, type UserListQuery } from './model'
import type { UserDeps } from './service'

/** `budgets`: spend is shown for the current window (§6.7). */
type ReadDeps = Pick<UserDeps, 'repos'> & Pick<AppContext, 'budgets'>

/**
 * Whether a non-admin caller is related to another user (§4): a member of a team the caller administers, or of
 * an organization the caller administers.
 */
export async function administersUser(
  repos: Pick<Repositories, 'memberships' | 'organizationMemberships'>,
  principal: Principal,
  userId: string,
  via: { teams: boolean } = { teams: true },
): Promise<boolean> {
  const teams = via.teams ? adminTeamIds(principal) : []
  const organizations = adminOrganizationIds(principal)
  if (teams.length === 0 && organizations.length === 0) return false
  if (organizations.length > 0 && (await repos.organizationMemberships.listByUser(userId)).some((m) => organizations.includes(m.organizationId))) return true
  return teams.length > 0 && (await repos.memberships.listByUser(userId)).some((m) => teams.includes(m.teamId))
}

/**
 * The user a read names (default: the caller). Admin roles read anyone; others themselves, and the members of
 * the teams and organizations they administer; any other user is answered as missing, so a caller cannot tell
 * which ids exist (§4).
 */
async function readableUser(deps: ReadDeps, principal: Principal, passed: string | undefined): Promise<UserRow> {
  const userId = passed ?? principal.userId
  const visible =
    userId !== null && (isAdminRole(principal) || userId === principal.userId || (await administersUser(deps.repos, principal, userId)))
  const user = visible ? await deps.repos.users.get(userId) : null
  if (!user) throw notFound(`User ${userId ?? 'None'} not found`, 'user_id')
  const [current] = await deps.budgets.current.users([user])
  return current
}

/** Teams by alias (teams without one last), then id: the same order on both engines. */
function byAlias(a: TeamRow, b: TeamRow): number {
  if (a.teamAlias !== b.teamAlias) {
    if (a.teamAlias === null) return 1
    if (b.teamAlias === null) return -1
    return a.teamAlias < b.teamAlias ? -1 : 1
  }
  return a.teamId < b.teamId ? -1 : a.teamId > b.teamId ? 1 : 0
}

export async function userInfo(deps: ReadDeps, principal: Principal, passed: string | undefined) {
  const user = await readableUser(deps, principal, passed)
  const { repos } = deps
  const [keys, memberships, organizationMemberships] = await Promise.all([
    repos.keys.listByUser(user.userId).then((rows) => deps.budgets.current.keys(rows)),
    repos.memberships.listByUser(user.userId),
    repos.organizationMemberships.listByUser(user.userId),
  ])
  const teams = (await repos.teams.getMany(memberships.map((m) => m.teamId))).sort(byAlias)
  const teamViews = await loadTeamViews(repos, teams, { keys: false })
  const budgets = await keyBudgets(repos, keys)
  const organizationBudgets = await budgetsById(repos, organizationMemberships.map((m) => m.budgetId))
  return {
    user_id: user.userId,
    user_info: userWithMemberships(
      user,
      teams.map((team) => team.teamId),
      organizationMemberships.map((m) => organizationMembershipResponse(m, user, m.budgetId ? organizationBudgets.get(m.budgetId) : null)),
    ),
    keys: keys.map((key) => keyResponse(key, key.budgetId ? (budgets.get(key.budgetId) ?? null) : null, { withToken: false })),
    teams: teamViews.map((view) => teamResponse(view)),
  }
}

export async function userInfoV2(deps: ReadDeps, principal: Principal, passed: string | undefined) {
  const user = await readableUser(deps, principal, passed)
  const memberships = await deps.repos.memberships.listByUser(user.userId)
  return {
    user_id: user.userId,
    user_email: user.userEmail,
    user_alias: user.userAlias,
    user_role: user.userRole,
    spend: user.spend,
    max_budget: user.maxBudget,
    models: user.models,
    budget_duration: user.budgetDuration,
    budget_reset_at: formatTimestamp(user.budgetResetAt),
    metadata: user.metadata,
    created_at: formatTimestamp(user.createdAt),
    updated_at: formatTimestamp(user.updatedAt),
    teams: memberships.map((m) => m.teamId),
  }
}

/** Organization admins list the members of their organizations only (a filter outside them matches nobody). */
function listableOrganizations(principal: Principal, asked: readonly string[] | undefined): readonly string[] | undefined {
  if (isAdminRole(principal)) return asked
  const own = adminOrganizationIds(principal)
  return asked === undefined ? own : asked.filter((id) => own.includes(id))
}

export async function listUsers(deps: ReadDeps, principal: Principal, query: UserListQuery) {
  const filter = {
    role: query.role,
    userIds: query.user_ids,
    emailContains: query.user_email,
    teamId: query.team,
    organizationIds: listableOrganizations(principal, query.organization_ids),
  }
  // LiteLLM's order: newest first, unless a column is named (then ascending unless told otherwise).
  const sort: { by: UserSortColumn; order: 'asc' | 'desc' } = query.sort_by
    ? { by: query.sort_by, order: query.sort_order ?? 'asc' }
    : { by: 'created_at', order: query.sort_order ?? 'desc' }
  const page = { offset: (query.page - 1) * query.page_size, limit: query.page_size }
  const { rows: stored, total } = await deps.repos.users.list(filter, page, sort)
  const rows = await deps.budgets.current.users(stored)
  const ids = rows.map((row) => row.userId)
  const [keyCounts, memberships] = await Promise.all([deps.repos.keys.countByUsers(ids), deps.repos.memberships.listByUsers(ids)])
  const users = rows.map((row) => ({
    ...userResponse(row),
    teams: memberships.filter((m) => m.userId === row.userId).map((m) => m.teamId),
    key_count: keyCounts.get(row.userId) ?? 0,
  }))
  return { users, total, page: query.page, page_size: query.page_size, total_pages: totalPages(total, query.page_size) }
}

export function availableRoles() {
  return AVAILABLE_ROLES
}
