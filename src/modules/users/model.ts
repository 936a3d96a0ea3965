/**
 * Users (§5.4): the response shape of a user row (LiteLLM's `LiteLLM_UserTable`). The password hash never
 * leaves the database.
 */
import type { UserRow } from '../../db/ports'
import { lifecycleFields, limitFields } from '../shared/response-fields'

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
