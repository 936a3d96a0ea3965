/**
 * The fields of `/key/generate` and `/key/update` (§5.3): their semantic checks, the config's default and
 * upper-bound params, and their columns. Shared by generate, update, regenerate and bulk update.
 */
import { keyTypeRoutes } from '../../auth/route-groups'
import type { Settings } from '../../config/load'
import type { KeyInsert, Patch } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { durationSeconds } from '../../lib/duration'
import { windowEnd } from '../shared/owned-budget'
import { checkDuration, checkMoney, definedOnly } from '../shared/validate'
import { keyFields, type KeyFields } from './model'

const negative = (field: string) => (value: number) => `${field} cannot be negative. Received: ${value}`

/** A key's `duration`: the duration grammar, or `"-1"` for a key that never expires. */
const NEVER = '-1'

export function checkKeyFields(body: KeyFields): void {
  checkMoney('max_budget', body.max_budget, negative('max_budget'))
  checkMoney('soft_budget', body.soft_budget, negative('soft_budget'))
  checkMoney('spend', body.spend, negative('spend'))
  checkMoney('temp_budget_increase', body.temp_budget_increase, negative('temp_budget_increase'))
  checkDuration('budget_duration', body.budget_duration)
  if (body.duration !== NEVER) checkDuration('duration', body.duration)
  for (const [model, entry] of Object.entries(body.model_max_budget ?? {})) {
    for (const field of ['budget_limit', 'max_budget'] as const) checkMoney(`model_max_budget.${model}.${field}`, entry[field])
    for (const field of ['time_period', 'budget_duration'] as const) checkDuration(`model_max_budget.${model}.${field}`, entry[field])
  }
}

/** `temp_budget_increase` raises the cap only until `temp_budget_expiry`, so the two come together. */
export function checkTempBudget(increase: number | null, expiry: Date | null): void {
  if ((increase === null) !== (expiry === null)) {
    throw badRequest('temp_budget_increase and temp_budget_expiry must be set together', increase === null ? 'temp_budget_increase' : 'temp_budget_expiry')
  }
}

/** `litellm_settings.default_key_generate_params`: fills the fields a generate request leaves null. */
export function withDefaultParams<T extends KeyFields>(settings: Settings, body: T): T {
  const defaults = settings.config.litellm_settings.default_key_generate_params ?? {}
  const filled: Record<string, unknown> = { ...body }
  for (const [field, value] of Object.entries(defaults)) {
    if (field in keyFields && (filled[field] === undefined || filled[field] === null)) filled[field] = value
  }
  return filled as T
}

const NUMERIC_BOUNDS = ['max_budget', 'soft_budget', 'tpm_limit', 'rpm_limit', 'max_parallel_requests'] as const
const DURATION_BOUNDS = ['duration', 'budget_duration'] as const

const durationLength = (value: string) => (value === NEVER ? Infinity : durationSeconds(value))

/**
 * `litellm_settings.upperbound_key_generate_params`: a value above the bound is a 400; on generate (`fill`) a
 * missing value takes the bound. Durations compare by length, `"-1"` being infinite.
 */
export function applyUpperBounds<T extends KeyFields>(settings: Settings, body: T, options: { fill: boolean }): T {
  const bounds = settings.config.litellm_settings.upperbound_key_generate_params ?? {}
  const result: Record<string, unknown> = { ...body }
  const over = (field: string, value: unknown, max: unknown) =>
    badRequest(`${field} is over max limit set in config - user_value=${String(value)}; max_value=${String(max)}`, field)
  for (const field of [...NUMERIC_BOUNDS, ...DURATION_BOUNDS]) {
    const max = bounds[field]
    if (max === undefined || max === null) continue
    const value = result[field]
    if (value === undefined || value === null) {
      if (options.fill) result[field] = max
      continue
    }
    const exceeds =
      typeof value === 'number' ? value > Number(max) : durationLength(String(value)) > durationLength(String(max))
    if (exceeds) throw over(field, value, max)
  }
  return result as T
}

/** `key_type` presets `allowed_routes` (§4) when the request names no routes itself. */
export function allowedRoutesFor(body: KeyFields): string[] | undefined {
  if (body.allowed_routes?.length) return body.allowed_routes
  const preset = keyTypeRoutes(body.key_type)
  return preset ? [...preset] : body.allowed_routes === undefined ? undefined : []
}

/** The columns a request sets; absent fields are left out, null clears (lists and maps become empty). */
export function keyColumns(body: KeyFields, now: Date): Patch<KeyInsert> {
  const orEmpty = <V>(value: V | null | undefined, empty: V) => (value === null ? empty : value)
  return definedOnly({
    keyAlias: body.key_alias,
    userId: body.user_id,
    teamId: body.team_id,
    organizationId: body.organization_id,
    budgetId: body.budget_id,
    models: orEmpty(body.models, []),
    aliases: orEmpty(body.aliases, {}),
    maxBudget: body.max_budget,
    softBudget: body.soft_budget,
    budgetDuration: body.budget_duration,
    spend: body.spend,
    tpmLimit: body.tpm_limit,
    rpmLimit: body.rpm_limit,
    maxParallelRequests: body.max_parallel_requests,
    modelMaxBudget: orEmpty(body.model_max_budget, {}),
    blocked: orEmpty(body.blocked, false),
    allowedRoutes: allowedRoutesFor(body),
    keyType: orEmpty(body.key_type, 'default'),
    tempBudgetIncrease: body.temp_budget_increase,
    tempBudgetExpiry: body.temp_budget_expiry === undefined ? undefined : body.temp_budget_expiry === null ? null : new Date(body.temp_budget_expiry),
    expires: body.duration === undefined ? undefined : body.duration === null || body.duration === NEVER ? null : windowEnd(body.duration, now),
  })
}

/** What a key keeps in `metadata` besides the client's own map (§5.3). */
export function keyMetadataOverlay(body: KeyFields): Record<string, unknown> {
  return {
    tags: body.tags,
    model_rpm_limit: body.model_rpm_limit,
    model_tpm_limit: body.model_tpm_limit,
    rpm_limit_type: body.rpm_limit_type,
    tpm_limit_type: body.tpm_limit_type,
  }
}
