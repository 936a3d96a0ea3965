/**
 * The snapshots the data plane reads per request: keys (by token hash), teams, users, team memberships,
 * organizations, budget rows, end users and tags. Spend is never read from these snapshots (it lives in
 * counters), so no background task ever writes a snapshot back.
 */
import type {
  BudgetRow,
  EndUserRow,
  KeyRow,
  OrganizationRow,
  Repositories,
  TagRow,
  TeamMembershipRow,
  TeamRow,
  UserRow,
} from '../db/ports'
import type { Clock } from '../lib/clock'
import { SnapshotCache } from './snapshot-cache'

/** A key found by hash; `rotatedUntil` is set when the hash is a rotated-out key still inside its grace period. */
export type KeyLookup = { key: KeyRow; rotatedUntil: Date | null }

export type EntityCaches = {
  keys: SnapshotCache<KeyLookup>
  teams: SnapshotCache<TeamRow>
  users: SnapshotCache<UserRow>
  memberships: SnapshotCache<TeamMembershipRow>
  organizations: SnapshotCache<OrganizationRow>
  budgets: SnapshotCache<BudgetRow>
  endUsers: SnapshotCache<EndUserRow>
  tags: SnapshotCache<TagRow>
}

export type CacheKind = keyof EntityCaches

const SEPARATOR = '\u0000'

/** The cache id of a team membership. */
export function membershipCacheId(teamId: string, userId: string): string {
  return `${teamId}${SEPARATOR}${userId}`
}

export type EntityCacheOptions = { clock: Clock; ttlMs: number; onRefreshError?: (error: unknown) => void }

export function createEntityCaches(repos: Repositories, options: EntityCacheOptions): EntityCaches {
  const make = <V>(loader: (id: string) => Promise<V | null>) => new SnapshotCache(loader, options)
  return {
    keys: make(async (hash) => {
      const key = await repos.keys.get(hash)
      if (key) return { key, rotatedUntil: null }
      const rotation = await repos.keyRotations.get(hash)
      if (!rotation) return null
      const current = await repos.keys.get(rotation.token)
      return current ? { key: current, rotatedUntil: rotation.revokeAt } : null
    }),
    teams: make((id) => repos.teams.get(id)),
    users: make((id) => repos.users.get(id)),
    memberships: make((id) => {
      const [teamId, userId] = id.split(SEPARATOR)
      return repos.memberships.get({ teamId, userId })
    }),
    organizations: make((id) => repos.organizations.get(id)),
    budgets: make((id) => repos.budgets.get(id)),
    endUsers: make((id) => repos.endUsers.get(id)),
    tags: make((id) => repos.tags.get(id)),
  }
}
