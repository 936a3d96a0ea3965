/**
 * Loads what team responses render, for one team or a page of them: memberships in one query, then their
 * users and every budget row involved (member rows, the team default member row, key tiers).
 */
import type { Repositories, TeamRow } from '../../db/ports'
import { budgetsById } from '../shared/lookups'
import type { TeamView } from './model'

type ViewRepos = Pick<Repositories, 'memberships' | 'users' | 'budgets' | 'keys'>

export async function loadTeamViews(repos: ViewRepos, teams: readonly TeamRow[], options: { keys: boolean }): Promise<TeamView[]> {
  const memberships = await repos.memberships.listByTeams(teams.map((team) => team.teamId))
  const keys = options.keys ? (await Promise.all(teams.map((team) => repos.keys.listByTeam(team.teamId)))).flat() : []
  const users = await repos.users.getMany([...new Set(memberships.map((m) => m.userId))])
  const budgetIds = [...memberships.map((m) => m.budgetId), ...teams.map((t) => t.teamMemberBudgetId), ...keys.map((k) => k.budgetId)]
  const budgetMap = await budgetsById(repos, budgetIds)
  const userMap = new Map(users.map((user) => [user.userId, user]))
  return teams.map((team) => ({
    team,
    memberships: memberships.filter((m) => m.teamId === team.teamId),
    users: userMap,
    budgets: budgetMap,
    keys: keys.filter((key) => key.teamId === team.teamId),
  }))
}

export async function loadTeamView(repos: ViewRepos, team: TeamRow, options: { keys: boolean } = { keys: false }): Promise<TeamView> {
  const [view] = await loadTeamViews(repos, [team], options)
  return view
}
