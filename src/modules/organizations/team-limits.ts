/**
 * A team inside an organization stays within the organization's budget row and models (§5.1, §5.5): checked
 * by `/team/new` and `/team/update` inside their transaction, so a refused change writes nothing.
 */
import type { Repositories, TeamRow } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { pythonFloat, pythonList } from '../../lib/python-float'

export const TEAM_LIMIT_FIELDS = ['max_budget', 'tpm_limit', 'rpm_limit', 'models'] as const
export type TeamLimitField = (typeof TEAM_LIMIT_FIELDS)[number]

type TeamLimits = Pick<TeamRow, 'maxBudget' | 'tpmLimit' | 'rpmLimit' | 'models'>

/** Model names that mean "whatever is allowed above": they never exceed an organization's list. */
const INHERITING_MODELS = new Set(['all-proxy-models', '*', 'all-org-models'])

function allowsAllModels(models: readonly string[]): boolean {
  return models.length === 0 || models.some((model) => INHERITING_MODELS.has(model))
}

/**
 * Refuses `team` when one of `fields` exceeds what its organization allows: 400 naming the field. A null team
 * limit is no cap of the team's own, so the organization's cap alone applies; nothing to refuse.
 */
export async function checkTeamWithinOrganization(
  tx: Pick<Repositories, 'organizations' | 'budgets'>,
  organizationId: string,
  team: TeamLimits,
  fields: readonly TeamLimitField[],
): Promise<void> {
  const organization = await tx.organizations.get(organizationId)
  if (!organization) return
  const budget = await tx.budgets.get(organization.budgetId)
  const numeric = [
    ['max_budget', team.maxBudget, budget?.maxBudget ?? null, pythonFloat],
    ['tpm_limit', team.tpmLimit, budget?.tpmLimit ?? null, String],
    ['rpm_limit', team.rpmLimit, budget?.rpmLimit ?? null, String],
  ] as const
  for (const [field, own, ceiling, show] of numeric) {
    if (!fields.includes(field) || own === null || ceiling === null || own <= ceiling) continue
    throw badRequest(`Team ${field} (${show(own)}) exceeds organization's ${field} (${show(ceiling)}). organization_id=${organizationId}`, field)
  }
  if (fields.includes('models') && !allowsAllModels(organization.models)) {
    const outside = team.models.filter((model) => !INHERITING_MODELS.has(model) && !organization.models.includes(model))
    if (outside.length > 0) {
      throw badRequest(
        `Team models=${pythonList(outside)} are not in organization's models=${pythonList(organization.models)}. organization_id=${organizationId}`,
        'models',
      )
    }
  }
}
