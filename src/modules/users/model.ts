/**
 * Users (§5.4): request schemas and the response shape of a user row (LiteLLM's `LiteLLM_UserTable`). The
 * password hash never leaves the database; `teams` is rendered from team memberships.
 */
import { z } from 'zod'
import { GLOBAL_ROLES } from '../../auth/principal'
import type { UserRow } from '../../db/ports'
import { jsonObject, limit, pageNumber, stringList } from '../shared/fields'
import { lifecycleFields, limitFields } from '../shared/response-fields'
import { UNACTED_ON_USERS, unactedFieldSchemas } from '../shared/unacted-fields'
import type { organizationMembershipResponse } from '../organizations/model'

type OrganizationMembershipResponse = ReturnType<typeof organizationMembershipResponse>

export const USER_UNACTED_FIELDS = UNACTED_ON_USERS
export const USER_SORT_COLUMNS = ['user_id', 'user_email', 'created_at', 'spend', 'user_alias', 'user_role'] as const

/** `teams` on `/user/new`: ids, or entries with the member's role and budget in that team. */
const teamEntry = z.union([
  z.string(),
  z.strictObject({
    team_id: z.string(),
    max_budget_in_team: z.number().nullable().optional(),
    user_role: z.enum(['admin', 'user']).nullable().optional(),
  }),
])

/** The fields every user write takes (besides how the user is named). */
const userFields = {
  user_alias: z.string().nullable().optional(),
  user_role: z.enum(GLOBAL_ROLES).nullable().optional(),
  max_budget: z.number().nullable().optional(),
  soft_budget: z.number().nullable().optional(),
  budget_duration: z.string().nullable().optional(),
  tpm_limit: limit.nullable().optional(),
  rpm_limit: limit.nullable().optional(),
  max_parallel_requests: limit.nullable().optional(),
  models: stringList.nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  password: z.string().min(8).max(128).nullable().optional(),
  ...unactedFieldSchemas(USER_UNACTED_FIELDS),
}

export const newUserBody = z.strictObject({
  user_id: z.string().nullable().optional(),
  user_email: z.string().nullable().optional(),
  ...userFields,
  teams: z.array(teamEntry).nullable().optional(),
  organizations: stringList.nullable().optional(),
  auto_create_key: z.boolean().nullable().optional(),
  key_alias: z.string().nullable().optional(),
  duration: z.string().nullable().optional(),
})

const updateFields = { ...userFields, spend: z.number().optional() }
export const updateUserBody = z.strictObject({
  user_id: z.string().nullable().optional(),
  user_email: z.string().nullable().optional(),
  ...updateFields,
})
export const bulkUpdateUsersBody = z.strictObject({
  users: z.array(updateUserBody).nullable().optional(),
  all_users: z.boolean().nullable().optional(),
  // The same change for every user: an email or id would name one user, so neither is accepted here.
  user_updates: z.strictObject(updateFields).nullable().optional(),
})
export const deleteUsersBody = z.strictObject({ user_ids: stringList.nullable().optional() })
export const userInfoQuery = z.object({ user_id: z.string().optional() })
/** A comma-separated list; the query parser may already have split it (or the client repeated the name). */
const commaList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => [value].flat().flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item.length > 0))

export const userListQuery = z.object({
  role: z.string().optional(),
  user_ids: commaList.optional(),
  user_email: z.string().optional(),
  team: z.string().optional(),
  organization_ids: commaList.optional(),
  page: pageNumber.default(1),
  page_size: pageNumber.max(100).default(25),
  sort_by: z.enum(USER_SORT_COLUMNS).optional(),
  sort_order: z.enum(['asc', 'desc']).optional(),
})

export type NewUserBody = z.infer<typeof newUserBody>
export type UpdateUserBody = z.infer<typeof updateUserBody>
export type UserUpdateFields = Omit<UpdateUserBody, 'user_id' | 'user_email'>
export type BulkUpdateUsersBody = z.infer<typeof bulkUpdateUsersBody>
export type UserListQuery = z.infer<typeof userListQuery>

export function userResponse(row: UserRow) {
  return {
    user_id: row.userId,
    user_email: row.userEmail,
    user_alias: row.userAlias,
    user_role: row.userRole,
    models: row.models,
    metadata: row.metadata,
    ...limitFields(row),
    ...lifecycleFields(row),
  }
}

export type UserResponse = ReturnType<typeof userResponse>

/** A user with the ids of their teams and their organization memberships (`/user/info`, `/user/list`). */
export function userWithMemberships(
  row: UserRow,
  teamIds: readonly string[],
  organizationMemberships: readonly OrganizationMembershipResponse[],
) {
  return { ...userResponse(row), teams: [...teamIds], organization_memberships: [...organizationMemberships] }
}

/** `/user/available_roles`: every global role with LiteLLM's description and UI label. */
export const AVAILABLE_ROLES = {
  proxy_admin: { description: 'Proxy Admin role, admin over the whole platform', ui_label: 'Admin (All Permissions)' },
  proxy_admin_viewer: {
    description: 'Can login, view all keys and all spend. Cannot create or delete keys, add new users',
    ui_label: 'Admin (View Only)',
  },
  internal_user: {
    description: 'Can login, view, create and delete their own keys, view their spend. Cannot add new users',
    ui_label: 'Internal User (Create/Delete/View)',
  },
  internal_user_viewer: {
    description: 'Can login, view their own keys and their own spend. Cannot create or delete keys, add new users',
    ui_label: 'Internal User (View Only)',
  },
} as const
