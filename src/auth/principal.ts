import type { KeyRow, TeamMembershipRow, TeamRow, UserRow } from '../db/ports'
import type { Relations } from './relations'

export const GLOBAL_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'] as const
export type GlobalRole = (typeof GLOBAL_ROLES)[number]

/** The user id every admin credential (master key, generated admin key) acts as. */
export const ADMIN_USER_ID = 'default_user_id'

/**
 * Who is calling, resolved once per request from the credential. Snapshots come from the entity caches; they
 * are never mutated.
 */
export type Principal = {
  readonly kind: 'master_key' | 'virtual_key' | 'jwt'
  readonly role: GlobalRole
  readonly userId: string | null
  /** sha256 hex of the virtual key; null for admin credentials and JWTs. */
  readonly keyHash: string | null
  readonly key: KeyRow | null
  readonly team: TeamRow | null
  readonly user: UserRow | null
  /** The caller's membership in `team`, when both a team and a user are known. */
  readonly membership: TeamMembershipRow | null
  /** When set, the only routes this credential may call (paths, wildcards, group names; see route-groups.ts). */
  readonly allowedRoutes?: readonly string[] | null
  /** From a JWT claim (`org_id_jwt_field`), when the credential names an organization itself. */
  readonly organizationId?: string | null
  /** From a JWT claim (`end_user_id_jwt_field`): the end user, unless the request names one. */
  readonly endUserId?: string | null
  /**
   * Further allow-lists that must all admit a route (a key's `allowed_routes`, its `key_type` preset): each only
   * narrows what the role allows.
   */
  readonly routeLimits?: readonly (readonly string[])[]
  /** The caller's teams and organizations with their roles; loaded for management requests of non-admin users. */
  readonly relations?: Relations
}

export function adminPrincipal(): Principal {
  return {
    kind: 'master_key',
    role: 'proxy_admin',
    userId: ADMIN_USER_ID,
    keyHash: null,
    key: null,
    team: null,
    user: null,
    membership: null,
  }
}

export function isProxyAdmin(principal: Principal): boolean {
  return principal.role === 'proxy_admin'
}

/** proxy_admin and proxy_admin_viewer: they read everything. */
export function isAdminRole(principal: Principal): boolean {
  return principal.role === 'proxy_admin' || principal.role === 'proxy_admin_viewer'
}
