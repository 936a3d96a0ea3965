/**
 * The user row behind a team member or a key owner, created when missing (LiteLLM upserts users on
 * `/team/member_add`, `/team/new` and `/key/generate`). A member named only by email is matched
 * case-insensitively; a new user gets a UUID and the configured default role.
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import { GLOBAL_ROLES, type GlobalRole } from '../../auth/principal'
import type { Settings } from '../../config/load'
import type { Repositories, UserRow } from '../../db/ports'
import { badRequest, conflict, unprocessable } from '../../http/errors'
import { clientIdProblem, newId } from '../../lib/ids'

export type UserReference = { user_id?: string | null; user_email?: string | null }

/** `litellm_settings.default_internal_user_params.user_role`, else `internal_user`. */
export function defaultUserRole(settings: Settings): GlobalRole {
  const role = settings.config.litellm_settings.default_internal_user_params?.user_role
  return GLOBAL_ROLES.includes(role as GlobalRole) ? (role as GlobalRole) : 'internal_user'
}

/** The user a reference names, or null when there is none (never creates). */
export async function findUser(tx: Repositories, reference: UserReference): Promise<UserRow | null> {
  if (reference.user_id) return tx.users.get(reference.user_id)
  if (!reference.user_email) return null
  const matches = await tx.users.findByEmail(reference.user_email)
  if (matches.length > 1) throw badRequest("Multiple users with this email found in db. Please use 'user_id' instead.", 'user_email')
  return matches[0] ?? null
}

export async function findOrCreateUser(
  tx: Repositories,
  settings: Settings,
  actor: ChangeActor,
  reference: UserReference,
): Promise<{ user: UserRow; created: boolean }> {
  if (!reference.user_id && !reference.user_email) throw badRequest('Either user id or user email must be provided')
  const existing = await findUser(tx, reference)
  if (existing) return { user: existing, created: false }

  const userId = reference.user_id ?? newId()
  const idProblem = clientIdProblem(userId)
  if (idProblem) throw unprocessable(`user_id: ${idProblem}`, 'user_id')
  const email = reference.user_email ?? null
  if (email && (await tx.users.findByEmail(email)).length > 0) throw conflict(`User with email ${email} already exists`, 'user_email')
  const by = actor.principal.userId
  const user = await tx.users.insert({
    userId,
    userEmail: email,
    userRole: defaultUserRole(settings),
    models: [],
    metadata: {},
    createdBy: by,
    updatedBy: by,
  })
  await recordChange(tx, actor, { action: 'created', tableName: 'users', objectId: userId, after: user })
  return { user, created: true }
}
