/**
 * The fields of `/user/new` and `/user/update` (§5.4): a new user's configured defaults, the semantic checks,
 * the columns a request sets, and the password hash (argon2id; the plaintext is never stored or logged).
 */
import type { GlobalRole } from '../../auth/principal'
import type { Settings } from '../../config/load'
import type { Patch, UserInsert } from '../../db/ports'
import { checkDuration, checkMoney, definedOnly } from '../shared/validate'
import { defaultUserRole } from './find-or-create'
import type { NewUserBody, UserUpdateFields } from './model'

/** Fields of `default_internal_user_params` that fill a `/user/new` request (`available_teams` is not one). */
const DEFAULTED = ['user_role', 'max_budget', 'soft_budget', 'budget_duration', 'tpm_limit', 'rpm_limit', 'max_parallel_requests', 'models', 'metadata', 'teams'] as const

export type NewUserWithDefaults = NewUserBody & { user_role: GlobalRole }

/**
 * `litellm_settings.default_internal_user_params` fills what the request leaves out (or null, or an empty
 * `models` list, as LiteLLM does); a user whose role ends up `internal_user` also takes
 * `max_internal_user_budget` and `internal_user_budget_duration`.
 */
export function withUserDefaults(settings: Settings, body: NewUserBody): NewUserWithDefaults {
  const litellm = settings.config.litellm_settings
  const defaults = litellm.default_internal_user_params ?? {}
  const filled: Record<string, unknown> = { ...body }
  for (const field of DEFAULTED) {
    const value = defaults[field]
    if (value === undefined) continue
    const current = filled[field]
    if (current === undefined || current === null || (field === 'models' && Array.isArray(current) && current.length === 0)) filled[field] = value
  }
  const result = { ...(filled as NewUserBody), user_role: (filled.user_role as GlobalRole | null | undefined) ?? defaultUserRole(settings) }
  if (result.user_role === 'internal_user') {
    result.max_budget ??= litellm.max_internal_user_budget
    result.budget_duration ??= litellm.internal_user_budget_duration
  }
  return result
}

export function checkUserFields(body: UserUpdateFields): void {
  checkMoney('max_budget', body.max_budget)
  checkMoney('soft_budget', body.soft_budget)
  checkMoney('spend', body.spend)
  checkDuration('budget_duration', body.budget_duration)
}

/** The user columns a request sets (absent = unchanged; null clears; null `models` becomes empty). */
export function userColumns(body: UserUpdateFields & { user_email?: string | null }): Patch<UserInsert> {
  return definedOnly({
    userEmail: body.user_email,
    userAlias: body.user_alias,
    userRole: body.user_role ?? undefined,
    models: body.models === null ? [] : body.models,
    maxBudget: body.max_budget,
    softBudget: body.soft_budget,
    budgetDuration: body.budget_duration,
    tpmLimit: body.tpm_limit,
    rpmLimit: body.rpm_limit,
    maxParallelRequests: body.max_parallel_requests,
    spend: body.spend,
  })
}

/** argon2id via Bun; undefined = unchanged, null = no password. */
export async function passwordHashOf(password: string | null | undefined): Promise<string | null | undefined> {
  if (password === undefined || password === null) return password
  return Bun.password.hash(password, { algorithm: 'argon2id' })
}
