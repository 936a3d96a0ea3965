/**
 * config.yaml, LiteLLM's format, as zod schemas. The schema is the type: everything that reads configuration
 * reads `Config` (defaults applied), never the raw YAML and never `process.env`.
 *
 * Settings sections are loose: keys LiteLLM knows but Tollgate does not act on are kept and reported as
 * ignored by the loader (see `unknownSettingsKeys`). Top-level sections are strict.
 */
import { z } from 'zod'
import { isDuration } from '../lib/duration'

const nonNegative = z.number().nonnegative()
const positiveInt = z.int().positive()
const nonNegativeInt = z.int().nonnegative()
export const durationText = z.string().refine(isDuration, {
  message: 'expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")',
})
const stringList = z.array(z.string())
const fallbackList = z.array(z.record(z.string(), z.array(z.string())))

export const litellmParamsSchema = z.looseObject({
  model: z.string().min(1),
  api_base: z.string().min(1).optional(),
  api_key: z.string().optional(),
  api_version: z.string().optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  cache_read_input_token_cost: nonNegative.optional(),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  timeout: z.number().positive().optional(),
  stream_timeout: z.number().positive().optional(),
  tags: stringList.optional(),
  weight: z.number().positive().optional(),
  max_tokens: positiveInt.optional(),
})

export const modelInfoSchema = z.looseObject({
  id: z.string().min(1).optional(),
  mode: z.enum(['chat', 'completion', 'embedding']).optional(),
  access_groups: stringList.optional(),
  max_tokens: positiveInt.optional(),
  max_input_tokens: positiveInt.optional(),
  max_output_tokens: positiveInt.optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  cache_read_input_token_cost: nonNegative.optional(),
  health_check_timeout: z.number().positive().optional(),
})

export const deploymentSchema = z.object({
  model_name: z.string().min(1),
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.optional(),
})

export const jwtAuthSchema = z.looseObject({
  admin_jwt_scope: z.string().default('litellm_proxy_admin'),
  admin_allowed_routes: stringList.default([
    'management_routes',
    'spend_tracking_routes',
    'global_spend_tracking_routes',
    'info_routes',
  ]),
  team_id_jwt_field: z.string().optional(),
  team_ids_jwt_field: z.string().optional(),
  team_alias_jwt_field: z.string().optional(),
  team_id_default: z.string().optional(),
  team_id_upsert: z.boolean().default(false),
  team_allowed_routes: stringList.default(['openai_routes', 'info_routes']),
  user_id_jwt_field: z.string().optional(),
  user_email_jwt_field: z.string().optional(),
  user_allowed_email_domain: z.string().optional(),
  user_id_upsert: z.boolean().default(false),
  upsert_sso_user_to_team: z.boolean().default(false),
  org_id_jwt_field: z.string().optional(),
  end_user_id_jwt_field: z.string().optional(),
  public_key_ttl: z.number().positive().default(600),
})

/** Budget, limits and models of a team or user that the config gives defaults for. */
const defaultLimits = {
  max_budget: nonNegative.optional(),
  soft_budget: nonNegative.optional(),
  budget_duration: durationText.optional(),
  tpm_limit: nonNegativeInt.optional(),
  rpm_limit: nonNegativeInt.optional(),
  max_parallel_requests: nonNegativeInt.optional(),
  models: stringList.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
}

const defaultTeamSettingsSchema = z.looseObject({
  team_id: z.string().min(1),
  team_alias: z.string().optional(),
  ...defaultLimits,
})

/** Defaults of users created by `/user/new` (and the role of users created anywhere else); checked at start-up. */
const defaultInternalUserParamsSchema = z.looseObject({
  user_role: z.enum(['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer']).optional(),
  ...defaultLimits,
  teams: z
    .array(
      z.union([
        z.string(),
        z.object({ team_id: z.string().min(1), max_budget_in_team: nonNegative.optional(), user_role: z.enum(['admin', 'user']).optional() }),
      ]),
    )
    .optional(),
  available_teams: stringList.optional(),
})

export const litellmSettingsSchema = z.looseObject({
  max_budget: nonNegative.optional(),
  budget_duration: durationText.optional(),
  max_end_user_budget: nonNegative.optional(),
  max_end_user_budget_id: z.string().optional(),
  default_team_settings: z.array(defaultTeamSettingsSchema).default([]),
  default_key_generate_params: z.record(z.string(), z.unknown()).optional(),
  upperbound_key_generate_params: z.record(z.string(), z.unknown()).optional(),
  key_generation_settings: z.record(z.string(), z.unknown()).optional(),
  default_internal_user_params: defaultInternalUserParamsSchema.optional(),
  max_internal_user_budget: nonNegative.optional(),
  internal_user_budget_duration: durationText.optional(),
  require_auth_for_metrics_endpoint: z.boolean().default(true),
  enable_end_user_cost_tracking_prometheus_only: z.boolean().default(false),
  callbacks: stringList.optional(),
  success_callback: stringList.optional(),
  failure_callback: stringList.optional(),
  num_retries: nonNegativeInt.optional(),
  request_timeout: z.number().positive().optional(),
  fallbacks: fallbackList.optional(),
  context_window_fallbacks: fallbackList.optional(),
})

const userHeaderMappingSchema = z.object({
  header_name: z.string().min(1),
  litellm_user_role: z.string().optional(),
})

export const generalSettingsSchema = z.looseObject({
  master_key: z.string().min(1).optional(),
  database_url: z.string().min(1).optional(),
  database_connection_pool_limit: positiveInt.default(10),
  database_connection_timeout: z.number().positive().default(60),
  enable_jwt_auth: z.boolean().default(false),
  litellm_jwtauth: jwtAuthSchema.optional(),
  litellm_key_header_name: z.string().min(1).optional(),
  budget_enforcement: z.enum(['default', 'strict']).default('default'),
  budget_wait_timeout: z.number().positive().default(60),
  skip_user_budget_on_team_key: z.boolean().default(false),
  max_parallel_requests: positiveInt.optional(),
  global_max_parallel_requests: positiveInt.optional(),
  token_rate_limit_type: z.enum(['input', 'output', 'total']).default('total'),
  max_request_size_mb: z.number().positive().default(32),
  user_header_mappings: z.array(userHeaderMappingSchema).optional(),
  user_header_name: z.string().min(1).optional(),
  proxy_batch_write_at: z.number().positive().default(1),
  proxy_budget_rescheduler_min_time: z.number().positive().optional(),
  proxy_budget_rescheduler_max_time: z.number().positive().optional(),
  disable_spend_logs: z.boolean().default(false),
  maximum_spend_logs_retention_period: durationText.optional(),
  /** Tollgate: where the spend spool lives (default: `tollgate-spool/` next to a libSQL file, else in the working folder). */
  spend_spool_dir: z.string().min(1).optional(),
  /** Tollgate: `interval` (fdatasync before each flush, the default) or `always` (after every settlement). */
  spend_spool_fsync: z.enum(['interval', 'always']).default('interval'),
  background_health_checks: z.boolean().default(false),
  health_check_interval: z.number().positive().default(300),
  health_check_details: z.boolean().default(true),
  alert_to_webhook_url: z.string().min(1).optional(),
  user_api_key_cache_ttl: z.number().positive().default(60),
  allow_requests_on_db_unavailable: z.boolean().optional(),
})

export const routerSettingsSchema = z.looseObject({
  num_retries: nonNegativeInt.optional(),
  timeout: z.number().positive().optional(),
  stream_timeout: z.number().positive().optional(),
  fallbacks: fallbackList.optional(),
  context_window_fallbacks: fallbackList.optional(),
  model_group_alias: z.record(z.string(), z.union([z.string(), z.object({ model: z.string(), hidden: z.boolean().optional() })])).optional(),
  allowed_fails: nonNegativeInt.default(3),
  cooldown_time: z.number().nonnegative().default(5),
  routing_strategy: z.string().default('simple-shuffle'),
  enable_tag_filtering: z.boolean().default(false),
  redis_host: z.string().min(1).optional(),
  redis_port: z.union([positiveInt, z.string().regex(/^\d+$/).transform(Number)]).optional(),
  redis_password: z.string().optional(),
})

export const configSchema = z.strictObject({
  model_list: z.array(deploymentSchema).default([]),
  litellm_settings: litellmSettingsSchema.prefault({}),
  general_settings: generalSettingsSchema.prefault({}),
  router_settings: routerSettingsSchema.prefault({}),
  environment_variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  litellm_jwtauth: jwtAuthSchema.optional(),
})

export type Config = z.infer<typeof configSchema>
export type Deployment = z.infer<typeof deploymentSchema>
export type JwtAuthSettings = z.infer<typeof jwtAuthSchema>
export type GeneralSettings = z.infer<typeof generalSettingsSchema>
export type LitellmSettings = z.infer<typeof litellmSettingsSchema>
export type RouterSettings = z.infer<typeof routerSettingsSchema>

/** The settings sections whose unknown keys are reported as ignored rather than rejected. */
const LOOSE_SECTIONS: ReadonlyArray<readonly [string, z.ZodObject]> = [
  ['litellm_settings', litellmSettingsSchema],
  ['general_settings', generalSettingsSchema],
  ['router_settings', routerSettingsSchema],
]

/** Paths of keys that the schema does not know, inside sections where such keys are warnings, not errors. */
export function unknownSettingsKeys(raw: Record<string, unknown>): string[] {
  const found: string[] = []
  const known = (schema: z.ZodObject) => new Set(Object.keys(schema.shape))
  for (const [section, schema] of LOOSE_SECTIONS) {
    const value = raw[section]
    if (!isPlainObject(value)) continue
    const names = known(schema)
    for (const key of Object.keys(value)) if (!names.has(key)) found.push(`${section}.${key}`)
  }
  const models = raw.model_list
  if (Array.isArray(models)) {
    models.forEach((entry, index) => {
      if (!isPlainObject(entry)) return
      for (const [part, schema] of [
        ['litellm_params', litellmParamsSchema],
        ['model_info', modelInfoSchema],
      ] as const) {
        const value = entry[part]
        if (!isPlainObject(value)) continue
        const names = known(schema)
        for (const key of Object.keys(value)) if (!names.has(key)) found.push(`model_list[${index}].${part}.${key}`)
      }
    })
  }
  return found
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
