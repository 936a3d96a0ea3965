/**
 * Objects a management request refers to by id and that must exist, with the contract's status and message.
 */
import type { BudgetRow, OrganizationRow, Repositories, TeamRow } from '../../db/ports'
import { badRequest, notFound } from '../../http/errors'

export const teamNotFound = (teamId: string, param = 'team_id') => notFound(`Team not found, passed team_id=${teamId}`, param)

export async function requireTeam(tx: Pick<Repositories, 'teams'>, teamId: string): Promise<TeamRow> {
  const team = await tx.teams.get(teamId)
  if (!team) throw teamNotFound(teamId)
  return team
}

/**
 * An organization a request names. Where it is a reference on another object (a team's or key's
 * `organization_id`) a missing one is the contract's 400; where the request is about the organization, 404.
 */
export async function requireOrganization(
  tx: Pick<Repositories, 'organizations'>,
  organizationId: string,
  status: 400 | 404 = 400,
): Promise<OrganizationRow> {
  const organization = await tx.organizations.get(organizationId)
  if (organization) return organization
  const message = `Organization not found for organization_id=${organizationId}`
  throw status === 404 ? notFound(message, 'organization_id') : badRequest(message, 'organization_id')
}

/** The budget rows `ids` name (nulls skipped, each read once), by id. */
export async function budgetsById(repos: Pick<Repositories, 'budgets'>, ids: readonly (string | null)[]): Promise<Map<string, BudgetRow>> {
  const rows = await repos.budgets.getMany([...new Set(ids.filter((id): id is string => id !== null))])
  return new Map(rows.map((row) => [row.budgetId, row]))
}

export async function requireBudget(tx: Pick<Repositories, 'budgets'>, budgetId: string): Promise<BudgetRow> {
  const budget = await tx.budgets.get(budgetId)
  if (!budget) throw notFound(`Budget with id '${budgetId}' not found.`, 'budget_id')
  return budget
}
