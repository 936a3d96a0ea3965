/**
 * Fields LiteLLM defines that Tollgate accepts and keeps in `metadata` without acting on them (§5): a client that
 * sends them keeps working, and a warning says they changed nothing. Any other unknown field stays a 422.
 */
import { z } from 'zod'
import type { Logger } from '../../lib/logger'
import { jsonObject, stringList } from './fields'

const UNACTED = {
  guardrails: stringList,
  policies: stringList,
  prompts: stringList,
  object_permission: jsonObject,
  allowed_cache_controls: stringList,
  config: jsonObject,
  router_settings: jsonObject,
  send_invite_email: z.boolean(),
  allowed_passthrough_routes: stringList,
  allowed_vector_store_indexes: z.array(z.unknown()),
  access_group_ids: stringList,
  enforced_params: stringList,
  auto_rotate: z.boolean(),
  rotation_interval: z.string(),
  secret_manager_settings: jsonObject,
  model_rpm_limit: z.record(z.string(), z.number()),
  model_tpm_limit: z.record(z.string(), z.number()),
  max_budget_in_organization: z.number(),
}

export type UnactedField = keyof typeof UNACTED

const ON_TEAMS_AND_KEYS = [
  'guardrails',
  'policies',
  'prompts',
  'object_permission',
  'allowed_cache_controls',
  'config',
  'router_settings',
  'allowed_passthrough_routes',
  'allowed_vector_store_indexes',
  'access_group_ids',
  'enforced_params',
  'secret_manager_settings',
] as const satisfies readonly UnactedField[]

/** On teams, per-model limits are not enforced (keys keep theirs in metadata and the data plane reads them). */
export const UNACTED_ON_TEAMS = [...ON_TEAMS_AND_KEYS, 'model_rpm_limit', 'model_tpm_limit'] as const
export const UNACTED_ON_KEYS = [...ON_TEAMS_AND_KEYS, 'send_invite_email', 'auto_rotate', 'rotation_interval'] as const
/** Users and organizations keep them in their own `metadata`; `send_invite_email` is a `/user/new` field. */
export const UNACTED_ON_USERS = [...ON_TEAMS_AND_KEYS, 'send_invite_email'] as const
export const UNACTED_ON_ORGANIZATIONS = ON_TEAMS_AND_KEYS

type Shape<Names extends UnactedField> = { [N in Names]: z.ZodOptional<z.ZodNullable<(typeof UNACTED)[N]>> }

/** Schema entries for `names`, each nullable and optional, to spread into a request schema. */
export function unactedFieldSchemas<Names extends UnactedField>(names: readonly Names[]): Shape<Names> {
  return Object.fromEntries(names.map((name) => [name, UNACTED[name].nullable().optional()])) as unknown as Shape<Names>
}

/** The unacted fields the client sent (null included: it removes the stored value), with a warning when any. */
export function takeUnactedFields(
  body: Record<string, unknown>,
  names: readonly UnactedField[],
  log: Logger,
  route: string,
): Record<string, unknown> {
  const sent = Object.fromEntries(names.filter((name) => body[name] !== undefined).map((name) => [name, body[name]]))
  const fields = Object.keys(sent)
  if (fields.length > 0) log.warn('fields accepted and stored in metadata, but Tollgate does not act on them', { route, fields })
  return sent
}
