/**
 * Object-level checks (§4, BOLA): is the caller related to this team, key, user or organization, and may that
 * relationship do this? Pure functions of the principal (with its relations) and the rows. Services call them
 * after loading an object and answer, by the contract's rule, the endpoint's 404 when the caller may not even
 * see the object (so it cannot tell it exists) and a 403 when it may see it but not do this.
 */
import type { KeyRow, TeamRow } from '../db/ports'
import { forbidden } from '../http/errors'
import { pythonList } from '../lib/python-float'
import { isAdminRole, isProxyAdmin, type Principal } from './principal'
import { NO_RELATIONS, type Relations, type TeamRole } from './relations'

export function relationsOf(principal: Principal): Relations {
  return principal.relations ?? NO_RELATIONS
}

/** Viewer roles never write, whatever their memberships (§12 #20). */
export function mayWrite(principal: Principal): boolean {
  return principal.role === 'proxy_admin' || principal.role === 'internal_user'
}

export function teamRoleOf(principal: Principal, teamId: string | null): TeamRole | null {
  return teamId ? (relationsOf(principal).teams.get(teamId) ?? null) : null
}

/** The organizations the caller is an `org_admin` of (an internal user only: viewers stay viewers). */
export function adminOrganizationIds(principal: Principal): string[] {
  if (principal.role !== 'internal_user') return []
  return [...relationsOf(principal).organizations].filter(([, role]) => role === 'org_admin').map(([id]) => id)
}

export function isOrganizationAdmin(principal: Principal, organizationId: string | null | undefined): boolean {
  return !!organizationId && adminOrganizationIds(principal).includes(organizationId)
}

/** Organizations the caller belongs to in any role. */
export function memberOrganizationIds(principal: Principal): string[] {
  return [...relationsOf(principal).organizations.keys()]
}

/** Teams the caller is an admin of (internal users only). */
export function adminTeamIds(principal: Principal): string[] {
  if (principal.role !== 'internal_user') return []
  return [...relationsOf(principal).teams].filter(([, role]) => role === 'admin').map(([id]) => id)
}

// ---- teams

export function canReadTeam(principal: Principal, team: TeamRow): boolean {
  return isAdminRole(principal) || teamRoleOf(principal, team.teamId) !== null || isOrganizationAdmin(principal, team.organizationId)
}

/** Members, models, permissions, keys and (keeping or lowering) limits: the team's admin or its org's admin. */
export function canManageTeam(principal: Principal, team: TeamRow): boolean {
  if (isProxyAdmin(principal)) return true
  if (principal.role !== 'internal_user') return false
  return teamRoleOf(principal, team.teamId) === 'admin' || isOrganizationAdmin(principal, team.organizationId)
}

/** Delete, block, move between organizations: its organization's admin. */
export function canAdministerTeam(principal: Principal, team: TeamRow): boolean {
  return isProxyAdmin(principal) || isOrganizationAdmin(principal, team.organizationId)
}

// ---- keys

/** The principal's own key: the credential itself, or a key whose `user_id` is the caller's. */
export function ownsKey(principal: Principal, key: Pick<KeyRow, 'token' | 'userId'>): boolean {
  return key.token === principal.keyHash || (principal.userId !== null && key.userId === principal.userId)
}

function keyInAdminOrganization(principal: Principal, key: KeyRow, team: TeamRow | null): boolean {
  return isOrganizationAdmin(principal, key.organizationId) || isOrganizationAdmin(principal, team?.organizationId)
}

/**
 * `/key/info`, `/key/list`: admin roles all; org admins their organizations' keys; team admins their teams'
 * keys; everyone their own keys, and team keys where the team lets members call `/key/info`.
 */
export function canReadKey(principal: Principal, key: KeyRow, team: TeamRow | null): boolean {
  if (isAdminRole(principal) || ownsKey(principal, key)) return true
  if (keyInAdminOrganization(principal, key, team)) return true
  const role = teamRoleOf(principal, key.teamId)
  if (role === 'admin') return true
  return role === 'user' && !!team && team.teamMemberPermissions.includes('/key/info')
}

export function teamMemberPermissionError(route: string, team: TeamRow) {
  return forbidden(
    `Team member does not have permissions for endpoint: ${route}. You only have access to the following endpoints: ${pythonList(team.teamMemberPermissions)} for team ${team.teamId}.`,
    'team_member_permission_error',
  )
}

export type KeyWriteRight = 'admin' | 'org_admin' | 'team_admin' | 'owner' | 'team_member'

/**
 * Who may change a key through `route` (`/key/update`, `/key/delete`, `/key/regenerate`, …): proxy admins; the
 * admin of the key's organization; the admin of the key's team; the owner of a personal key; a member of the
 * key's team (role `user`) when the team's `team_member_permissions` list the route. Null when the caller is
 * not related to the key at all (the caller answers as for a missing key); a related caller without the right
 * gets `deniedFor`'s 403, a team member the contract's team_member_permission_error.
 */
export function keyWriteRight(principal: Principal, key: KeyRow, team: TeamRow | null, route: string, denied: string): KeyWriteRight | null {
  if (isProxyAdmin(principal)) return 'admin'
  if (!canReadKey(principal, key, team) && teamRoleOf(principal, key.teamId) === null) return null
  if (!mayWrite(principal)) throw forbidden(denied)
  if (keyInAdminOrganization(principal, key, team)) return 'org_admin'
  const role = teamRoleOf(principal, key.teamId)
  if (role === 'admin') return 'team_admin'
  if (!key.teamId && ownsKey(principal, key)) return 'owner'
  if (role === 'user' && team) {
    if (team.teamMemberPermissions.includes(route)) return 'team_member'
    throw teamMemberPermissionError(route, team)
  }
  throw forbidden(denied)
}

/** Reset spend, change a key's budget window: admins of the key's organization or team only (not its owner). */
export function mayResetKeySpend(right: KeyWriteRight): boolean {
  return right === 'admin' || right === 'org_admin' || right === 'team_admin'
}
