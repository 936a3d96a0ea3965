/**
 * Loads what detailed organization responses render: memberships with their users and budget rows, the
 * organization's budget row, and its teams (rendered as team objects).
 */
import type { OrganizationRow, Repositories } from '../../db/ports'
import { budgetsById } from '../shared/lookups'
import { loadTeamViews } from '../teams/team-views'
import type { OrganizationView } from './model'

type ViewRepos = Pick<Repositories, 'organizationMemberships' | 'users' | 'budgets' | 'teams' | 'memberships' | 'keys'>

export async function loadOrganizationViews(repos: ViewRepos, organizations: readonly OrganizationRow[]): Promise<OrganizationView[]> {
  const perOrganization = await Promise.all(
    organizations.map(async (organization) => {
      const memberships = await repos.organizationMemberships.listByOrganization(organization.organizationId)
      const { rows: teams } = await repos.teams.list({ organizationId: organization.organizationId })
      return { organization, memberships, teams: await loadTeamViews(repos, teams, { keys: false }) }
    }),
  )
  const memberships = perOrganization.flatMap((entry) => entry.memberships)
  const users = await repos.users.getMany([...new Set(memberships.map((m) => m.userId))])
  const budgetMap = await budgetsById(repos, [...organizations.map((o) => o.budgetId), ...memberships.map((m) => m.budgetId)])
  const userMap = new Map(users.map((user) => [user.userId, user]))
  return perOrganization.map((entry) => ({ ...entry, users: userMap, budgets: budgetMap }))
}

export async function loadOrganizationView(repos: ViewRepos, organization: OrganizationRow): Promise<OrganizationView> {
  const [view] = await loadOrganizationViews(repos, [organization])
  return view
}
