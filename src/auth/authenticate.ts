/**
 * Credential → Principal (§3). Checks run in the contract's order — key exists, not expired, not blocked, team
 * not blocked — for every key, admin or not. The key's format is checked before any lookup, and lookups are by
 * sha256 only; snapshots come from the entity caches, so a warm request makes no database round trip.
 */
import { membershipCacheId, type EntityCaches } from '../cache/entity-caches'
import { unauthorized } from '../http/errors'
import type { Clock } from '../lib/clock'
import { isVirtualKeyFormat, maskKey, maskLast4, sha256Hex } from '../lib/secrets'
import { formatTimestamp } from '../lib/time'
import type { AdminCredential } from './admin-credential'
import { readCredential, looksLikeJwt } from './credentials'
import { adminPrincipal, isAdminRole, type GlobalRole, type Principal } from './principal'
import { loadRelations, type RelationRepos } from './relations'
import { keyRouteLimits } from './route-groups'

export type AuthenticatorDeps = {
  admin: AdminCredential
  caches: EntityCaches
  clock: Clock
  /** `general_settings.litellm_key_header_name` */
  customHeader: string | null
  /** The JWT path (§7) when JWT auth is on. */
  verifyJwt: ((token: string) => Promise<Principal>) | null
  /** Memberships, read for the relationship roles of non-admin users (§4). */
  repos: RelationRepos
}

export type Authenticator = {
  authenticate(headers: Headers): Promise<Principal>
  /** The principal with its teams and organizations (admin roles need none: they are returned as they are). */
  withRelations(principal: Principal): Promise<Principal>
}

function unknownKey(value: string, hash: string) {
  return unauthorized(
    `Authentication Error, Invalid proxy server token passed. Received API Key = ${maskKey(value)}, Key Hash (Token) =${hash}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
    'token_not_found_in_db',
  )
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  async function fromVirtualKey(value: string): Promise<Principal> {
    if (!value.startsWith('sk-')) {
      throw unauthorized(`LiteLLM Virtual Key expected. Received=${maskLast4(value)}, expected to start with 'sk-'.`)
    }
    const hash = sha256Hex(value)
    if (!isVirtualKeyFormat(value)) throw unknownKey(value, hash)
    const lookup = await deps.caches.keys.get(hash)
    const now = deps.clock.now()
    if (!lookup || (lookup.rotatedUntil && lookup.rotatedUntil.getTime() <= now)) throw unknownKey(value, hash)

    const { key } = lookup
    if (key.expires && key.expires.getTime() <= now) {
      throw unauthorized(
        `Authentication Error - Expired Key. Key Expiry time ${formatTimestamp(key.expires)} and current time ${formatTimestamp(new Date(now))}`,
        'expired_key',
      )
    }
    if (key.blocked) throw unauthorized("Key is blocked. Update via `/key/unblock` if you're an admin.")

    const team = key.teamId ? await deps.caches.teams.get(key.teamId) : null
    if (team?.blocked) throw unauthorized(`Team=${team.teamId} is blocked. Update via \`/team/unblock\` if you're an admin.`)
    const user = key.userId ? await deps.caches.users.get(key.userId) : null
    const membership = team && key.userId ? await deps.caches.memberships.get(membershipCacheId(team.teamId, key.userId)) : null

    return {
      kind: 'virtual_key',
      role: (user?.userRole as GlobalRole | undefined) ?? 'internal_user',
      userId: key.userId,
      keyHash: key.token,
      key,
      team,
      user,
      membership,
      // The key's own allow-lists narrow every request it makes, data plane included.
      routeLimits: keyRouteLimits(key),
    }
  }

  return {
    async authenticate(headers) {
      const credential = readCredential(headers, deps.customHeader)
      if (credential.kind === 'none') throw unauthorized('No api key passed in.')
      if (credential.kind === 'malformed') {
        throw unauthorized('Malformed API Key passed in. Ensure Key has `Bearer ` prefix.')
      }
      const { value } = credential
      if (deps.admin.matches(value)) return adminPrincipal()
      if (deps.verifyJwt && looksLikeJwt(value)) return deps.verifyJwt(value)
      return fromVirtualKey(value)
    },
    async withRelations(principal) {
      if (isAdminRole(principal) || principal.relations) return principal
      return { ...principal, relations: await loadRelations(deps.repos, principal.userId) }
    },
  }
}
