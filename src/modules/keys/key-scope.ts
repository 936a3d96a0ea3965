/**
 * The keys a caller may see (§4 `/key/info`, `/key/list`): everything for admin roles; otherwise their own keys,
 * the keys of teams they admin or whose members may call `/key/info`, and the keys of organizations they admin
 * (with their teams). Also the scope of a non-admin's spend views.
 */
import { adminOrganizationIds, relationsOf } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { KeyFilter, Repositories } from '../../db/ports'

export type KeyVisibility = NonNullable<KeyFilter['visibleTo']>

/** undefined = no limit (admin roles). */
export async function visibleKeys(repos: Pick<Repositories, 'teams'>, principal: Principal): Promise<KeyVisibility | undefined> {
  if (isAdminRole(principal)) return undefined
  const organizationIds = adminOrganizationIds(principal)
  const memberTeams = await repos.teams.getMany([...relationsOf(principal).teams.keys()])
  const teamIds = memberTeams
    .filter((team) => {
      const role = relationsOf(principal).teams.get(team.teamId)
      return (role === 'admin' && principal.role === 'internal_user') || team.teamMemberPermissions.includes('/key/info')
    })
    .map((team) => team.teamId)
  for (const organizationId of organizationIds) {
    const { rows } = await repos.teams.list({ organizationId })
    teamIds.push(...rows.map((team) => team.teamId))
  }
  return { userIds: principal.userId ? [principal.userId] : [], teamIds: [...new Set(teamIds)], organizationIds }
}
