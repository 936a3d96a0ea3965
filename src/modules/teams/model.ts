/**
 * Teams and team members (§5.1, §5.2): request schemas and response shapes (LiteLLM's `LiteLLM_TeamTable`,
 * `LiteLLM_TeamMembership`). Memberships are the one source of truth; `members_with_roles`, `admins` and
 * `members` are rendered from them.
 */
import { z } from 'zod'
import type { BudgetRow, KeyRow, TeamMembershipRow, TeamRow, UserRow } from '../../db/ports'
import { budgetTable } from '../budgets/model'
import { keyResponse } from '../keys/model'
import { lifecycleFields, limitFields } from '../shared/response-fields'
import { jsonObject, limit, pageNumber, stringList, stringMap, timestampText } from '../shared/fields'
import { UNACTED_ON_TEAMS, unactedFieldSchemas } from '../shared/unacted-fields'

/** Key-management routes a team may open to its members with role `user` (`team_member_permissions`). */
export const KEY_MANAGEMENT_ROUTES = [
  '/key/generate',
  '/key/service-account/generate',
  '/key/update',
  '/key/bulk_update',
  '/key/delete',
  '/key/info',
  '/v2/key/info',
  '/key/list',
  '/key/aliases',
  '/key/regenerate',
  '/key/{key}/regenerate',
  '/key/{key}/reset_spend',
  '/key/block',
  '/key/unblock',
  '/key/health',
] as const

export const DEFAULT_TEAM_MEMBER_PERMISSIONS = ['/key/info', '/key/health']

export const TEAM_UNACTED_FIELDS = UNACTED_ON_TEAMS

const role = z.enum(['admin', 'user'])
export const memberSchema = z.strictObject({
  user_id: z.string().nullable().optional(),
  user_email: z.string().nullable().optional(),
  role,
})
export type MemberSpec = z.infer<typeof memberSchema>

const teamFields = {
  team_alias: z.string().nullable().optional(),
  organization_id: z.string().nullable().optional(),
  members_with_roles: z.array(memberSchema).nullable().optional(),
  admins: stringList.nullable().optional(),
  members: stringList.nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  models: stringList.nullable().optional(),
  max_budget: z.number().nullable().optional(),
  soft_budget: z.number().nullable().optional(),
  spend: z.number().optional(),
  budget_duration: z.string().nullable().optional(),
  budget_reset_at: timestampText.nullable().optional(),
  tpm_limit: limit.nullable().optional(),
  rpm_limit: limit.nullable().optional(),
  max_parallel_requests: limit.nullable().optional(),
  blocked: z.boolean().optional(),
  tags: stringList.nullable().optional(),
  model_aliases: stringMap.nullable().optional(),
  team_member_budget: z.number().nullable().optional(),
  team_member_budget_duration: z.string().nullable().optional(),
  team_member_rpm_limit: limit.nullable().optional(),
  team_member_tpm_limit: limit.nullable().optional(),
  team_member_permissions: stringList.nullable().optional(),
  ...unactedFieldSchemas(TEAM_UNACTED_FIELDS),
}

export const newTeamBody = z.strictObject({ team_id: z.string().nullable().optional(), ...teamFields })
export const updateTeamBody = z.strictObject({ team_id: z.string(), ...teamFields })
export const teamIdBody = z.strictObject({ team_id: z.string() })
export const deleteTeamsBody = z.strictObject({ team_ids: stringList })
export const teamModelsBody = z.strictObject({ team_id: z.string(), models: stringList })
export const permissionsUpdateBody = z.strictObject({ team_id: z.string(), team_member_permissions: stringList })
export const teamInfoQuery = z.object({ team_id: z.string().optional() })
export const permissionsListQuery = z.object({ team_id: z.string() })
export const teamListQuery = z.object({ user_id: z.string().optional(), organization_id: z.string().optional() })
export const teamListV2Query = z.object({
  page: pageNumber.default(1),
  page_size: pageNumber.max(100).default(10),
  team_alias: z.string().optional(),
  organization_id: z.string().optional(),
  user_id: z.string().optional(),
})

const memberBudgetFields = {
  max_budget_in_team: z.number().nullable().optional(),
  budget_duration: z.string().nullable().optional(),
}
export const memberAddBody = z.strictObject({
  team_id: z.string().nullable().optional(),
  member: z.union([memberSchema, z.array(memberSchema)]).nullable().optional(),
  ...memberBudgetFields,
})
const memberRef = { team_id: z.string(), user_id: z.string().nullable().optional(), user_email: z.string().nullable().optional() }
export const memberDeleteBody = z.strictObject(memberRef)
export const memberUpdateBody = z.strictObject({
  ...memberRef,
  role: role.nullable().optional(),
  ...memberBudgetFields,
  tpm_limit: limit.nullable().optional(),
  rpm_limit: limit.nullable().optional(),
})

export type NewTeamBody = z.infer<typeof newTeamBody>
export type UpdateTeamBody = z.infer<typeof updateTeamBody>
export type TeamFields = Omit<NewTeamBody, 'team_id'>
export type TeamListV2Query = z.infer<typeof teamListV2Query>
export type MemberAddBody = z.infer<typeof memberAddBody>
export type MemberDeleteBody = z.infer<typeof memberDeleteBody>
export type MemberUpdateBody = z.infer<typeof memberUpdateBody>

/** A team with what its responses render: memberships, their users and budget rows, and (optionally) keys. */
export type TeamView = {
  team: TeamRow
  memberships: TeamMembershipRow[]
  users: ReadonlyMap<string, UserRow>
  budgets: ReadonlyMap<string, BudgetRow>
  keys: KeyRow[]
}

const budgetOrNull = (budgets: ReadonlyMap<string, BudgetRow>, id: string | null) => budgetTable(id ? budgets.get(id) : undefined)

export function membershipResponse(membership: TeamMembershipRow, budgets: ReadonlyMap<string, BudgetRow>) {
  return {
    user_id: membership.userId,
    team_id: membership.teamId,
    budget_id: membership.budgetId,
    spend: membership.spend,
    litellm_budget_table: budgetOrNull(budgets, membership.budgetId),
  }
}

/** The team object; `modelNames` expands `all-proxy-models` (done by `/team/info`). */
export function teamResponse(view: TeamView, modelNames?: readonly string[]) {
  const { team, memberships, users } = view
  const idsWithRole = (r: 'admin' | 'user') => memberships.filter((m) => m.role === r).map((m) => m.userId)
  const models = modelNames && team.models.includes('all-proxy-models') ? [...new Set(team.models.flatMap((m) => (m === 'all-proxy-models' ? modelNames : [m])))] : team.models
  return {
    team_id: team.teamId,
    team_alias: team.teamAlias,
    organization_id: team.organizationId,
    admins: idsWithRole('admin'),
    members: idsWithRole('user'),
    members_with_roles: memberships.map((m) => ({ user_id: m.userId, user_email: users.get(m.userId)?.userEmail ?? null, role: m.role })),
    metadata: team.metadata,
    models,
    ...limitFields(team),
    blocked: team.blocked,
    team_member_permissions: team.teamMemberPermissions,
    litellm_model_table: team.modelAliases ? { model_aliases: team.modelAliases } : null,
    team_member_budget_table: budgetOrNull(view.budgets, team.teamMemberBudgetId),
    ...lifecycleFields(team),
  }
}

/** A team in lists: the team object plus its memberships and keys (without their hashes). */
export function teamListItem(view: TeamView) {
  return {
    ...teamResponse(view),
    team_memberships: view.memberships.map((m) => membershipResponse(m, view.budgets)),
    keys: view.keys.map((key) => keyResponse(key, view.budgets.get(key.budgetId ?? '') ?? null, { withToken: false })),
  }
}
