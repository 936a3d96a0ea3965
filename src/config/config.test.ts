import { describe, expect, test } from 'bun:test'
import { ConfigError, loadSettings } from './load'

const load = (yaml: string | null, env: Record<string, string | undefined> = {}) => loadSettings({ yaml, env })
const problemsOf = (yaml: string, env: Record<string, string | undefined> = {}) => {
  try {
    load(yaml, env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('config.yaml', () => {
  test('no config is valid and gets every default', () => {
    const settings = load(null)
    expect(settings.config.model_list).toEqual([])
    expect(settings.config.general_settings.proxy_batch_write_at).toBe(1)
    expect(settings.config.general_settings.max_request_size_mb).toBe(32)
    expect(settings.config.router_settings.allowed_fails).toBe(3)
    expect(settings.config.litellm_settings.require_auth_for_metrics_endpoint).toBe(true)
    expect(settings.masterKey).toBeNull()
    expect(settings.databaseUrl).toBeNull()
    expect(Object.isFrozen(settings.config.general_settings)).toBe(true)
  })

  test('every invalid value is reported at once, with its path', () => {
    const problems = problemsOf('model_list: 3\ngeneral_settings:\n  master_key: 1234\n  budget_enforcement: loose\n')
    expect(problems).toHaveLength(3)
    expect(problems.some((p) => p.startsWith('config: model_list:'))).toBe(true)
    expect(problems.some((p) => p.startsWith('config: general_settings.master_key:'))).toBe(true)
    expect(problems.some((p) => p.startsWith('config: general_settings.budget_enforcement:'))).toBe(true)
  })

  test('default_internal_user_params is checked at start-up, field by field', () => {
    const problems = problemsOf(
      'litellm_settings:\n  default_internal_user_params:\n    user_role: boss\n    budget_duration: 1hr\n    teams: [{max_budget_in_team: 1}]\n',
    )
    expect(problems.map((p) => p.split(':')[1].trim()).sort()).toEqual([
      'litellm_settings.default_internal_user_params.budget_duration',
      'litellm_settings.default_internal_user_params.teams[0]',
      'litellm_settings.default_internal_user_params.user_role',
    ])
    const settings = load('litellm_settings:\n  default_internal_user_params: {user_role: internal_user_viewer, models: [a], teams: [t1, {team_id: t2, user_role: admin}]}\n')
    expect(settings.config.litellm_settings.default_internal_user_params?.teams).toEqual(['t1', { team_id: 't2', user_role: 'admin' }])
  })

  test('deployment fields are checked and a provider prefix must be supported', () => {
    const problems = problemsOf(
      'model_list:\n  - model_name: a\n    litellm_params: {model: bedrock/x}\n  - model_name: b\n    litellm_params: {model: gpt-4o, rpm: -1}\n',
    )
    expect(problems).toEqual([
      'config: model_list[1].litellm_params.rpm: Too small: expected number to be >0',
      "unsupported provider prefix 'bedrock' in model_list[0]",
    ])
    expect(problemsOf('model_list:\n  - model_name: a\n    litellm_params: {model: bedrock/x}\n')).toEqual([
      "unsupported provider prefix 'bedrock' in model_list[0]",
    ])
  })

  test('azure and anthropic deployments without their key (after env references) fail load, naming the deployment', () => {
    const yaml = [
      'model_list:',
      '  - model_name: local',
      '    litellm_params: {model: openai/llama3, api_base: "http://localhost:8000/v1"}',
      '  - model_name: gpt-4o-eu',
      '    litellm_params: {model: azure/gpt-4o, api_key: os.environ/AZURE_KEY}',
      '  - model_name: claude',
      '    litellm_params: {model: anthropic/claude-sonnet-4, api_key: os.environ/ANTHROPIC_KEY}',
      '',
    ].join('\n')
    expect(problemsOf(yaml, { AZURE_KEY: 'k', ANTHROPIC_KEY: '' })).toEqual([
      "config: model_list[1].litellm_params.api_base: required for azure deployments (model_name 'gpt-4o-eu')",
      "config: model_list[1].litellm_params.api_version: required for azure deployments (model_name 'gpt-4o-eu')",
      "config: model_list[2].litellm_params.api_key: required for anthropic deployments (model_name 'claude')",
    ])
    const complete = yaml.replace('api_key: os.environ/AZURE_KEY', 'api_key: os.environ/AZURE_KEY, api_base: "https://eu.openai.azure.com", api_version: 2024-10-21')
    expect(load(complete, { AZURE_KEY: 'k', ANTHROPIC_KEY: 'sk-ant' }).config.model_list).toHaveLength(3)
    // An unset variable is reported once, as unset.
    expect(problemsOf(complete, { AZURE_KEY: 'k' })).toEqual(['config: environment variable ANTHROPIC_KEY (referenced at model_list[2].litellm_params.api_key) is not set'])
  })

  test('os.environ/ references resolve from the environment and environment_variables', () => {
    const settings = load(
      'environment_variables:\n  UPSTREAM_KEY: from-config\nmodel_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_key: os.environ/UPSTREAM_KEY}\ngeneral_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n',
      { LITELLM_MASTER_KEY: 'sk-from-env-0123456789012345678901234' },
    )
    expect(settings.config.model_list[0].litellm_params.api_key).toBe('from-config')
    expect(settings.masterKey).toBe('sk-from-env-0123456789012345678901234')
    expect(problemsOf('general_settings:\n  database_url: os.environ/NOPE\n')).toEqual([
      'config: environment variable NOPE (referenced at general_settings.database_url) is not set',
    ])
  })

  test('unknown keys inside settings warn; unknown sections fail', () => {
    const settings = load('litellm_settings:\n  drop_params: true\ngeneral_settings:\n  alerting: [slack]\n')
    expect(settings.warnings).toContain('config: litellm_settings.drop_params is not used by Tollgate and is ignored')
    expect(settings.warnings).toContain('config: general_settings.alerting is not used by Tollgate and is ignored')
    expect(problemsOf('extra_section: {}\n')).toEqual(['config: extra_section: unknown section'])
  })

  test('JWT settings: top level (as seed 003 writes them) or under general_settings; unknown keys fail', () => {
    const top = load('general_settings:\n  enable_jwt_auth: true\nlitellm_jwtauth:\n  team_id_upsert: true\n  team_id_jwt_field: team_id\n')
    expect(top.jwt).toMatchObject({ team_id_upsert: true, team_id_jwt_field: 'team_id', admin_jwt_scope: 'litellm_proxy_admin' })
    const nested = load('general_settings:\n  enable_jwt_auth: true\n  litellm_jwtauth:\n    user_id_jwt_field: sub\n')
    expect(nested.jwt).toMatchObject({ user_id_jwt_field: 'sub' })
    const off = load('litellm_jwtauth:\n  team_id_upsert: true\n')
    expect(off.jwt).toBeNull()
    expect(off.warnings.some((w) => w.includes('enable_jwt_auth'))).toBe(true)
    expect(problemsOf('litellm_jwtauth:\n  team_id_upsrt: true\n')).toEqual(['Invalid arguments provided: team_id_upsrt'])
  })

  test('environment: database url, master key, redis', () => {
    const settings = load(null, { DATABASE_URL: 'postgres://x@h/db', LITELLM_MASTER_KEY: 'short', REDIS_HOST: 'r', REDIS_PORT: '6380', REDIS_PASSWORD: 'p w' })
    expect(settings.databaseUrl).toBe('postgres://x@h/db')
    expect(settings.masterKey).toBe('short')
    expect(settings.warnings.some((w) => w.includes('shorter than 32'))).toBe(true)
    expect(settings.redis).toEqual({ url: 'redis://:p%20w@r:6380' })
    expect(load(null, { REDIS_URL: 'redis://u:6379' }).redis).toEqual({ url: 'redis://u:6379' })
    expect(load('router_settings:\n  redis_host: cache\n').redis).toEqual({ url: 'redis://cache:6379' })
    expect(problemsOf('', { REDIS_URL: 'http://cache:6379' })).toEqual([
      'REDIS_URL must start with redis://, rediss://, valkey://, valkeys://, redis+tls://, redis+unix:// or redis+tls+unix://',
    ])
    expect(problemsOf('general_settings:\n  database_url: mysql://x\n')).toEqual(['database url must start with postgres://, postgresql://, file: or libsql:'])
  })

  test('YAML that does not parse, and a top level that is not a mapping', () => {
    expect(problemsOf('a: [1,\n')[0]).toMatch(/not valid YAML/)
    expect(problemsOf('- 1\n- 2\n')).toEqual(['config: the top level must be a mapping of sections'])
  })
})
