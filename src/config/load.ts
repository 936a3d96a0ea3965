/**
 * Reads config.yaml and the environment once, at boot, into a frozen `Settings` value. Every problem is
 * collected and reported together (with its path) so an operator fixes a config in one pass.
 */
import { z } from 'zod'
import { configSchema, isPlainObject, unknownSettingsKeys, type Config, type JwtAuthSettings } from './schema'
import { deploymentProviderProblems } from './providers'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

export type Env = Readonly<Record<string, string | undefined>>

export type RedisSettings = { url: string }

export type Settings = {
  readonly config: Config
  /** The JWT settings in force (from general_settings.litellm_jwtauth or the top-level block), or null when off. */
  readonly jwt: JwtAuthSettings | null
  readonly jwtEnv: { publicKeyUrl: string | null; audience: string | null; issuer: string | null }
  readonly databaseUrl: string | null
  readonly masterKey: string | null
  readonly redis: RedisSettings | null
  readonly keyRotationGracePeriod: string | null
  readonly warnings: readonly string[]
}

/** Keys LiteLLM's JWT settings know and Tollgate accepts without acting on them. */
const LITELLM_JWT_KEYS_IGNORED = new Set([
  'user_roles_jwt_field',
  'user_allowed_roles',
  'public_allowed_routes',
  'enforce_rbac',
  'roles_jwt_field',
  'role_mappings',
  'object_id_jwt_field',
  'scope_mappings',
  'enforce_scope_based_access',
  'enforce_team_based_model_access',
  'custom_validate',
  'sync_user_role_and_teams',
  'jwt_litellm_role_map',
  'org_alias_jwt_field',
  'team_alias_jwt_field_upsert',
])

const ENV_REFERENCE = /^os\.environ\/(.+)$/

/** Replaces every `os.environ/NAME` string with the variable's value, collecting the unset ones. */
function resolveEnvReferences(value: unknown, env: Env, path: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    const match = ENV_REFERENCE.exec(value)
    if (!match) return value
    const resolved = env[match[1]]
    if (resolved === undefined) {
      problems.push(`config: environment variable ${match[1]} (referenced at ${path || '(root)'}) is not set`)
      return value
    }
    return resolved
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveEnvReferences(item, env, `${path}[${i}]`, problems))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      out[key] = resolveEnvReferences(item, env, path ? `${path}.${key}` : key, problems)
    }
    return out
  }
  return value
}

export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${String(part)}` : String(part)
  }
  return out
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}

export type LoadInput = {
  /** The YAML text of config.yaml, or null when no config file is used. */
  yaml: string | null
  /** The process environment; `environment_variables` from the config are written into it. */
  env: Record<string, string | undefined>
  /** Where the YAML came from, for messages. */
  source?: string
}

export function loadSettings(input: LoadInput): Settings {
  const problems: string[] = []
  const warnings: string[] = []
  const source = input.source ?? 'config'

  let raw: unknown = {}
  if (input.yaml !== null && input.yaml.trim() !== '') {
    try {
      raw = Bun.YAML.parse(input.yaml) ?? {}
    } catch (error) {
      throw new ConfigError([`${source}: not valid YAML: ${(error as Error).message}`])
    }
  }
  if (!isPlainObject(raw)) throw new ConfigError([`${source}: the top level must be a mapping of sections`])

  // environment_variables are set before references are resolved, so references may use them.
  const envSection = raw.environment_variables
  if (isPlainObject(envSection)) {
    for (const [name, value] of Object.entries(envSection)) {
      if (['string', 'number', 'boolean'].includes(typeof value)) input.env[name] = String(value)
    }
  }

  const resolved = resolveEnvReferences(raw, input.env, '', problems) as Record<string, unknown>
  for (const path of unknownSettingsKeys(resolved)) warnings.push(`config: ${path} is not used by Tollgate and is ignored`)

  const parsed = configSchema.safeParse(resolved)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const at = formatIssuePath([...issue.path, key])
          problems.push(`config: ${at}: unknown section`)
        }
        continue
      }
      problems.push(`config: ${formatIssuePath(issue.path) || '(root)'}: ${issue.message}`)
    }
  }
  if (Array.isArray(resolved.model_list)) {
    resolved.model_list.forEach((deployment: unknown, index) => {
      if (!isPlainObject(deployment) || !isPlainObject(deployment.litellm_params)) return
      problems.push(...deploymentProviderProblems(deployment.litellm_params, deployment.model_name, index))
    })
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  const config = parsed.data

  const jwtBlock = config.general_settings.litellm_jwtauth ?? config.litellm_jwtauth ?? null
  const jwtRaw = (isPlainObject(resolved.general_settings) && isPlainObject(resolved.general_settings.litellm_jwtauth)
    ? resolved.general_settings.litellm_jwtauth
    : resolved.litellm_jwtauth) as Record<string, unknown> | undefined
  if (jwtRaw) {
    const known = new Set(Object.keys((configSchema.shape.litellm_jwtauth as z.ZodOptional<z.ZodObject>).unwrap().shape))
    const unknown = Object.keys(jwtRaw).filter((key) => !known.has(key) && !LITELLM_JWT_KEYS_IGNORED.has(key))
    if (unknown.length > 0) problems.push(`Invalid arguments provided: ${unknown.join(', ')}`)
    for (const key of Object.keys(jwtRaw)) {
      if (LITELLM_JWT_KEYS_IGNORED.has(key)) warnings.push(`config: litellm_jwtauth.${key} is not used by Tollgate and is ignored`)
    }
  }
  if (config.general_settings.enable_jwt_auth && !nonEmpty(input.env.JWT_PUBLIC_KEY_URL)) {
    warnings.push('enable_jwt_auth is true but JWT_PUBLIC_KEY_URL is not set: every JWT will be refused')
  }
  if (jwtBlock && !config.general_settings.enable_jwt_auth) {
    warnings.push('config: litellm_jwtauth is set but general_settings.enable_jwt_auth is not true; JWT auth stays off')
  }

  const masterKey = config.general_settings.master_key ?? nonEmpty(input.env.LITELLM_MASTER_KEY)
  if (masterKey && masterKey.length < 32) {
    warnings.push('master key is shorter than 32 characters; use a long random value')
  }

  const databaseUrl = config.general_settings.database_url ?? nonEmpty(input.env.DATABASE_URL)
  if (databaseUrl && !/^(postgres|postgresql|file|libsql):/.test(databaseUrl)) {
    problems.push('database url must start with postgres://, postgresql://, file: or libsql:')
  }

  const redis = redisSettings(config, input.env)
  if (redis && !/^(redis|rediss|valkey|valkeys|redis\+tls|redis\+unix|redis\+tls\+unix):\/\//.test(redis.url)) {
    problems.push('REDIS_URL must start with redis://, rediss://, valkey://, valkeys://, redis+tls://, redis+unix:// or redis+tls+unix://')
  }
  if (input.env.EXPERIMENTAL_MULTI_INSTANCE_RATE_LIMITING === 'true' && !redis) {
    warnings.push('EXPERIMENTAL_MULTI_INSTANCE_RATE_LIMITING is set but no Redis address is configured; counters stay per instance')
  }

  const callbacks = [
    ...(config.litellm_settings.callbacks ?? []),
    ...(config.litellm_settings.success_callback ?? []),
    ...(config.litellm_settings.failure_callback ?? []),
  ]
  for (const callback of new Set(callbacks)) {
    if (callback !== 'prometheus') warnings.push(`config: callback '${callback}' is not supported and is ignored`)
  }

  if (problems.length > 0) throw new ConfigError(problems)

  return deepFreeze({
    config,
    jwt: config.general_settings.enable_jwt_auth ? (jwtBlock ?? configSchema.shape.litellm_jwtauth.unwrap().parse({})) : null,
    jwtEnv: {
      publicKeyUrl: nonEmpty(input.env.JWT_PUBLIC_KEY_URL),
      audience: nonEmpty(input.env.JWT_AUDIENCE),
      issuer: nonEmpty(input.env.JWT_ISSUER),
    },
    databaseUrl,
    masterKey,
    redis,
    keyRotationGracePeriod: nonEmpty(input.env.LITELLM_KEY_ROTATION_GRACE_PERIOD),
    warnings,
  })
}

function redisSettings(config: Config, env: Env): RedisSettings | null {
  const url = nonEmpty(env.REDIS_URL)
  if (url) return { url }
  const host = nonEmpty(env.REDIS_HOST) ?? config.router_settings.redis_host ?? null
  if (!host) return null
  const port = nonEmpty(env.REDIS_PORT) ?? String(config.router_settings.redis_port ?? 6379)
  const password = nonEmpty(env.REDIS_PASSWORD) ?? config.router_settings.redis_password ?? null
  const auth = password ? `:${encodeURIComponent(password)}@` : ''
  return { url: `redis://${auth}${host}:${port}` }
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

/** Settings for tests and embedders: a config object instead of YAML text, nothing read from the environment. */
export function settingsFromObject(config: Record<string, unknown> = {}, env: Record<string, string | undefined> = {}): Settings {
  return loadSettings({ yaml: JSON.stringify(config), env: { ...env } })
}
