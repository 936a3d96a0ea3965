/**
 * Organizations and their members (§5.5): request schemas and response shapes (LiteLLM's
 * `LiteLLM_OrganizationTable`, `LiteLLM_OrganizationMembership`). Every organization has a budget row, rendered
 * as `litellm_budget_table`.
 */
import { z } from 'zod'
import type { BudgetRow, OrganizationMembershipRow, OrganizationRow, UserRow } from '../../db/ports'
import { formatTimestamp } from '../../lib/time'
import { budgetLimitFields, budgetTable } from '../budgets/model'
import { jsonObject, stringList } from '../shared/fields'
import { lifecycleFields } from '../shared/response-fields'
import { UNACTED_ON_ORGANIZATIONS, unactedFieldSchemas } from '../shared/unacted-fields'
import { teamResponse, type TeamView } from '../teams/model'

export const ORGANIZATION_ROLES = ['org_admin', 'internal_user', 'internal_user_viewer'] as const
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number]

export const ORGANIZATION_UNACTED_FIELDS = UNACTED_ON_ORGANIZATIONS

const organizationFields = {
  models: stringList.nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  ...budgetLimitFields,
  ...unactedFieldSchemas(ORGANIZATION_UNACTED_FIELDS),
}

export const newOrganizationBody = z.strictObject({
  organization_id: z.string().nullable().optional(),
  organization_alias: z.string(),
  budget_id: z.string().nullable().optional(),
  ...organizationFields,
})
export const updateOrganizationBody = z.strictObject({
  organization_id: z.string(),
  organization_alias: z.string().optional(),
  // An organization always has a budget row: it can be re-linked, never unset.
  budget_id: z.string().optional(),
  ...organizationFields,
})
export const deleteOrganizationsBody = z.strictObject({ organization_ids: stringList })
export const organizationInfoQuery = z.object({ organization_id: z.string() })

/** Roles are checked by the service, so that a wrong one gets the contract's 400 rather than a schema 422. */
const orgMember = z.strictObject({ user_id: z.string().nullable().optional(), user_email: z.string().nullable().optional(), role: z.string() })
const memberRef = { organization_id: z.string(), user_id: z.string().nullable().optional(), user_email: z.string().nullable().optional() }
export const orgMemberAddBody = z.strictObject({
  organization_id: z.string(),
  member: z.union([orgMember, z.array(orgMember)]),
  max_budget_in_organization: z.number().nullable().optional(),
})
export const orgMemberUpdateBody = z.strictObject({
  ...memberRef,
  role: z.string().nullable().optional(),
  max_budget_in_organization: z.number().nullable().optional(),
})
export const orgMemberDeleteBody = z.strictObject(memberRef)

export type NewOrganizationBody = z.infer<typeof newOrganizationBody>
export type UpdateOrganizationBody = z.infer<typeof updateOrganizationBody>
export type OrgMemberAddBody = z.infer<typeof orgMemberAddBody>
export type OrgMemberUpdateBody = z.infer<typeof orgMemberUpdateBody>
export type OrgMemberDeleteBody = z.infer<typeof orgMemberDeleteBody>

export function organizationResponse(row: OrganizationRow, budget: BudgetRow | null) {
  return {
    organization_id: row.organizationId,
    organization_alias: row.organizationAlias,
    budget_id: row.budgetId,
    metadata: row.metadata,
    models: row.models,
    spend: row.spend,
    litellm_budget_table: budgetTable(budget),
    ...lifecycleFields(row),
  }
}

export function organizationMembershipResponse(
  membership: OrganizationMembershipRow,
  user: UserRow | null | undefined,
  budget: BudgetRow | null | undefined,
) {
  return {
    user_id: membership.userId,
    organization_id: membership.organizationId,
    user_role: membership.userRole,
    user_email: user?.userEmail ?? null,
    spend: membership.spend,
    budget_id: membership.budgetId,
    litellm_budget_table: budgetTable(budget),
    created_at: formatTimestamp(membership.createdAt),
    updated_at: formatTimestamp(membership.updatedAt),
  }
}

/** An organization with what its detailed responses render: its budget row, memberships and teams. */
export type OrganizationView = {
  organization: OrganizationRow
  memberships: OrganizationMembershipRow[]
  users: ReadonlyMap<string, UserRow>
  budgets: ReadonlyMap<string, BudgetRow>
  teams: TeamView[]
}

/** The organization object plus `members` and `teams` (`/organization/info`, `/list`, `/delete`). */
export function organizationDetail(view: OrganizationView) {
  const { organization, budgets } = view
  return {
    ...organizationResponse(organization, budgets.get(organization.budgetId) ?? null),
    members: view.memberships.map((m) => organizationMembershipResponse(m, view.users.get(m.userId), m.budgetId ? budgets.get(m.budgetId) : null)),
    teams: view.teams.map((team) => teamResponse(team)),
  }
}
