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

export async function requireOrganization(tx: Pick<Repositories, 'organizations'>, organizationId: string): Promise<OrganizationRow> {
  const organization = await tx.organizations.get(organizationId)
  if (!organization) throw badRequest(`Organization not found for organization_id=${organizationId}`, 'organization_id')
  return organization
}

export async function requireBudget(tx: Pick<Repositories, 'budgets'>, budgetId: string): Promise<BudgetRow> {
  const budget = await tx.budgets.get(budgetId)
  if (!budget) throw notFound(`Budget with id '${budgetId}' not found.`, 'budget_id')
  return budget
}
