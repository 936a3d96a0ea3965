/**
 * What spend a caller may read (§4): admin roles everything; organization admins their organizations'; team
 * admins their teams'; everyone their own keys'. Raw spend rows are matched on their key, user, team and
 * organization columns; the daily rollups on the keys the caller may see.
 */
import { adminOrganizationIds, adminTeamIds } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { Repositories, SpendVisibility } from '../../db/ports'

export type SpendScope = {
  /** For `spend_logs` rows. */
  readonly rows: SpendVisibility
  /** For rollup rows: the hashes of the keys whose spend the caller may read. */
  readonly apiKeys: readonly string[]
}

const MAX_SCOPED_KEYS = 10_000

/** undefined = everything (admin roles). */
export async function spendScopeOf(repos: Pick<Repositories, 'teams' | 'keys'>, principal: Principal): Promise<SpendScope | undefined> {
  if (isAdminRole(principal)) return undefined
  const organizationIds = adminOrganizationIds(principal)
  const teamIds = adminTeamIds(principal)
  for (const organizationId of organizationIds) teamIds.push(...(await repos.teams.list({ organizationId })).rows.map((team) => team.teamId))
  const userIds = principal.userId ? [principal.userId] : []
  const { rows } = await repos.keys.list({ visibleTo: { userIds, teamIds, organizationIds } }, { offset: 0, limit: MAX_SCOPED_KEYS })
  const apiKeys = [...new Set([...rows.map((key) => key.token), ...(principal.keyHash ? [principal.keyHash] : [])])]
  return { rows: { apiKeys: principal.keyHash ? [principal.keyHash] : [], userIds, teamIds, organizationIds }, apiKeys }
}
