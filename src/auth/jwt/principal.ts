/**
 * A verified JWT → Principal (§7): the admin scope makes a proxy admin; otherwise the token's team (claim,
 * first existing of a list, or the default) and user (claim) are looked up — and created on first sight when
 * `team_id_upsert` / `user_id_upsert` say so. JWT principals have no key; they are budgeted, limited and
 * metered through their team, membership, user, organization and end user like key principals.
 */
import type { JWTPayload } from 'jose'
import { recordChange } from '../../audit/record'
import { membershipCacheId, type EntityCaches } from '../../cache/entity-caches'
import type { Invalidator } from '../../cache/invalidation'
import type { JwtAuthSettings, LitellmSettings } from '../../config/schema'
import type { Repositories, TeamRow, UserRow } from '../../db/ports'
import { forbidden, unauthorized } from '../../http/errors'
import type { Clock } from '../../lib/clock'
import { addDuration } from '../../lib/duration'
import { GLOBAL_ROLES, type GlobalRole, type Principal } from '../principal'
import { claimAt, type JwtVerifier } from './verify'

export type JwtPrincipalDeps = {
  jwt: JwtAuthSettings
  litellmSettings: LitellmSettings
  verifier: JwtVerifier
  caches: EntityCaches
  repos: Repositories
  invalidator: Invalidator
  clock: Clock
  isUniqueViolation(error: unknown): boolean
}

const DEFAULT_MEMBER_PERMISSIONS = ['/key/info', '/key/health']

function stringClaim(payload: JWTPayload, field: string | undefined): string | null {
  if (!field) return null
  const value = claimAt(payload, field)
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null
}

function scopesOf(payload: JWTPayload): string[] {
  const scope = payload.scope ?? payload.scp
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean)
  return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : []
}

export function createJwtPrincipalResolver(deps: JwtPrincipalDeps): (token: string) => Promise<Principal> {
  const { jwt, caches, repos } = deps
  const actor = (teamOrUser: string) => ({
    principal: { kind: 'jwt', role: 'proxy_admin', userId: 'litellm_jwtauth', keyHash: null, key: null, team: null, user: null, membership: null } as Principal,
    route: 'jwt upsert',
    changedBy: `litellm_jwtauth:${teamOrUser}`,
  })

  /** Creates a team seen for the first time with `default_team_settings`; concurrent first requests create it once. */
  async function upsertTeam(teamId: string): Promise<TeamRow> {
    const entries = deps.litellmSettings.default_team_settings
    const defaults = entries.find((entry) => entry.team_id === teamId) ?? entries.find((entry) => entry.team_id === 'default-settings')
    const now = new Date(deps.clock.now())
    try {
      await repos.transaction(async (tx) => {
        const created = await tx.teams.insert({
          teamId,
          teamAlias: defaults?.team_alias ?? null,
          metadata: defaults?.metadata ?? {},
          models: defaults?.models ?? [],
          maxBudget: defaults?.max_budget ?? null,
          softBudget: defaults?.soft_budget ?? null,
          budgetDuration: defaults?.budget_duration ?? null,
          budgetResetAt: defaults?.budget_duration ? addDuration(now, defaults.budget_duration) : null,
          tpmLimit: defaults?.tpm_limit ?? null,
          rpmLimit: defaults?.rpm_limit ?? null,
          maxParallelRequests: defaults?.max_parallel_requests ?? null,
          teamMemberPermissions: DEFAULT_MEMBER_PERMISSIONS,
          createdBy: 'litellm_jwtauth',
          updatedBy: 'litellm_jwtauth',
        })
        await recordChange(tx, actor(teamId), { action: 'created', tableName: 'teams', objectId: teamId, after: created })
      })
    } catch (error) {
      if (!deps.isUniqueViolation(error)) throw error
    }
    await deps.invalidator.publish({ kind: 'teams', id: teamId })
    return (await caches.teams.get(teamId))!
  }

  async function upsertUser(userId: string, email: string | null): Promise<UserRow> {
    const defaults = deps.litellmSettings.default_internal_user_params ?? {}
    const role = GLOBAL_ROLES.includes(defaults.user_role as GlobalRole) && !String(defaults.user_role).startsWith('proxy_admin')
      ? (defaults.user_role as GlobalRole)
      : 'internal_user'
    try {
      await repos.transaction(async (tx) => {
        const created = await tx.users.insert({ userId, userEmail: email, userRole: role, models: [], metadata: {}, createdBy: 'litellm_jwtauth' })
        await recordChange(tx, actor(userId), { action: 'created', tableName: 'users', objectId: userId, after: created })
      })
    } catch (error) {
      if (!deps.isUniqueViolation(error)) throw error
    }
    await deps.invalidator.publish({ kind: 'users', id: userId })
    return (await caches.users.get(userId))!
  }

  async function resolveTeam(payload: JWTPayload): Promise<TeamRow | null> {
    let teamId = stringClaim(payload, jwt.team_id_jwt_field)
    if (!teamId && jwt.team_ids_jwt_field) {
      const listed = claimAt(payload, jwt.team_ids_jwt_field)
      for (const candidate of Array.isArray(listed) ? listed : []) {
        if (typeof candidate === 'string' && (await caches.teams.get(candidate))) {
          teamId = candidate
          break
        }
      }
    }
    teamId ??= jwt.team_id_default ?? null
    if (!teamId) return null
    const team = await caches.teams.get(teamId)
    if (team) return team
    if (jwt.team_id_upsert) return upsertTeam(teamId)
    throw unauthorized(`Team doesn't exist in db. Team=${teamId}. Create team via \`/team/new\` call.`)
  }

  return async (token) => {
    const payload = await deps.verifier.verify(token)
    if (scopesOf(payload).includes(jwt.admin_jwt_scope)) {
      return {
        kind: 'jwt',
        role: 'proxy_admin',
        userId: stringClaim(payload, jwt.user_id_jwt_field) ?? (typeof payload.sub === 'string' ? payload.sub : null),
        keyHash: null,
        key: null,
        team: null,
        user: null,
        membership: null,
        allowedRoutes: jwt.admin_allowed_routes,
      }
    }

    const email = stringClaim(payload, jwt.user_email_jwt_field)
    if (jwt.user_allowed_email_domain && (!email || !email.toLowerCase().endsWith(`@${jwt.user_allowed_email_domain.toLowerCase()}`))) {
      throw forbidden(`User email=${email ?? ''} is not from the allowed domain ${jwt.user_allowed_email_domain}`)
    }

    const team = await resolveTeam(payload)
    if (team?.blocked) throw unauthorized(`Team=${team.teamId} is blocked. Update via \`/team/unblock\` if you're an admin.`)

    const userId = stringClaim(payload, jwt.user_id_jwt_field)
    let user = userId ? await caches.users.get(userId) : null
    if (!user && userId && jwt.user_id_upsert) user = await upsertUser(userId, email)
    if (!team && !user) throw unauthorized('JWT does not map to a team or user')

    let membership = team && user ? await caches.memberships.get(membershipCacheId(team.teamId, user.userId)) : null
    if (team && user && !membership && jwt.upsert_sso_user_to_team) {
      try {
        await repos.memberships.insert({ teamId: team.teamId, userId: user.userId, role: 'user', createdBy: 'litellm_jwtauth' })
      } catch (error) {
        if (!deps.isUniqueViolation(error)) throw error
      }
      await deps.invalidator.publish({ kind: 'memberships', id: membershipCacheId(team.teamId, user.userId) })
      membership = await caches.memberships.get(membershipCacheId(team.teamId, user.userId))
    }

    return {
      kind: 'jwt',
      role: (user?.userRole as GlobalRole | undefined) ?? 'internal_user',
      userId: user?.userId ?? null,
      keyHash: null,
      key: null,
      team,
      user,
      membership,
      allowedRoutes: jwt.team_allowed_routes,
      organizationId: stringClaim(payload, jwt.org_id_jwt_field) ?? team?.organizationId ?? null,
      endUserId: stringClaim(payload, jwt.end_user_id_jwt_field),
    }
  }
}
