/**
 * What a caller is to the objects of the management plane (§4's relationship roles): their role in each team
 * (`team_memberships.role`) and in each organization (`organization_memberships.user_role`). Read fresh from the
 * database for each management request of a user that is not an admin role, so a membership change applies to
 * the next request.
 */
import type { Repositories } from '../db/ports'

export type TeamRole = 'admin' | 'user'

export type Relations = {
  /** team_id → the caller's role in it */
  readonly teams: ReadonlyMap<string, TeamRole>
  /** organization_id → the caller's role in it (`org_admin`, `internal_user`, `internal_user_viewer`) */
  readonly organizations: ReadonlyMap<string, string>
}

export const NO_RELATIONS: Relations = { teams: new Map(), organizations: new Map() }

export type RelationRepos = Pick<Repositories, 'memberships' | 'organizationMemberships'>

export async function loadRelations(repos: RelationRepos, userId: string | null): Promise<Relations> {
  if (!userId) return NO_RELATIONS
  const [teams, organizations] = await Promise.all([repos.memberships.listByUser(userId), repos.organizationMemberships.listByUser(userId)])
  return {
    teams: new Map(teams.map((m) => [m.teamId, m.role as TeamRole])),
    organizations: new Map(organizations.map((m) => [m.organizationId, m.userRole])),
  }
}
