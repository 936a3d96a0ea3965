/**
 * libSQL schema: the same tables, columns and names as `../pg/schema.ts`, with SQLite storage types — money REAL,
 * limits INTEGER, timestamps INTEGER milliseconds, booleans INTEGER, lists and maps JSON text. The row types
 * are identical to Postgres's (a test checks the pairs), which is what lets one repository serve both engines.
 */
import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

const at = (name: string) => integer(name, { mode: 'timestamp_ms' })
const money = (name: string) => real(name)
const limit = (name: string) => integer(name, { mode: 'number' })
const json = <T>(name: string) => text(name, { mode: 'json' }).$type<T>()
const boolean = (name: string) => integer(name, { mode: 'boolean' })

type Json = Record<string, unknown>

const lifecycle = {
  version: integer('version').notNull().default(1),
  createdAt: at('created_at').notNull(),
  createdBy: text('created_by'),
  updatedAt: at('updated_at').notNull(),
  updatedBy: text('updated_by'),
}

export const teams = sqliteTable(
  'teams',
  {
    teamId: text('team_id').primaryKey(),
    teamAlias: text('team_alias'),
    organizationId: text('organization_id'),
    metadata: json<Json>('metadata').notNull(),
    models: json<string[]>('models').notNull(),
    modelAliases: json<Record<string, string>>('model_aliases'),
    maxBudget: money('max_budget'),
    softBudget: money('soft_budget'),
    spend: money('spend').notNull().default(0),
    budgetDuration: text('budget_duration'),
    budgetResetAt: at('budget_reset_at'),
    tpmLimit: limit('tpm_limit'),
    rpmLimit: limit('rpm_limit'),
    maxParallelRequests: limit('max_parallel_requests'),
    blocked: boolean('blocked').notNull().default(false),
    teamMemberPermissions: json<string[]>('team_member_permissions').notNull(),
    teamMemberBudgetId: text('team_member_budget_id'),
    ...lifecycle,
  },
  (t) => [
    index('teams_organization_id_idx').on(t.organizationId),
    index('teams_budget_reset_at_idx').on(t.budgetResetAt),
  ],
)

export const teamMemberships = sqliteTable(
  'team_memberships',
  {
    userId: text('user_id').notNull(),
    teamId: text('team_id').notNull(),
    role: text('role').$type<'admin' | 'user'>().notNull(),
    spend: money('spend').notNull().default(0),
    budgetId: text('budget_id'),
    ...lifecycle,
  },
  (t) => [primaryKey({ columns: [t.userId, t.teamId] }), index('team_memberships_team_id_idx').on(t.teamId)],
)

const keyColumns = {
  token: text('token').primaryKey(),
  keyName: text('key_name').notNull(),
  keyAlias: text('key_alias'),
  userId: text('user_id'),
  teamId: text('team_id'),
  organizationId: text('organization_id'),
  budgetId: text('budget_id'),
  models: json<string[]>('models').notNull(),
  aliases: json<Record<string, string>>('aliases').notNull(),
  metadata: json<Json>('metadata').notNull(),
  allowedRoutes: json<string[]>('allowed_routes').notNull(),
  keyType: text('key_type').notNull().default('default'),
  spend: money('spend').notNull().default(0),
  maxBudget: money('max_budget'),
  softBudget: money('soft_budget'),
  budgetDuration: text('budget_duration'),
  budgetResetAt: at('budget_reset_at'),
  tpmLimit: limit('tpm_limit'),
  rpmLimit: limit('rpm_limit'),
  maxParallelRequests: limit('max_parallel_requests'),
  modelMaxBudget: json<Json>('model_max_budget').notNull(),
  modelSpend: json<Record<string, number>>('model_spend').notNull(),
  expires: at('expires'),
  blocked: boolean('blocked').notNull().default(false),
  tempBudgetIncrease: money('temp_budget_increase'),
  tempBudgetExpiry: at('temp_budget_expiry'),
  ...lifecycle,
}

export const keys = sqliteTable('keys', keyColumns, (t) => [
  uniqueIndex('keys_key_alias_unique').on(t.keyAlias),
  index('keys_team_id_idx').on(t.teamId),
  index('keys_user_id_idx').on(t.userId),
  index('keys_budget_reset_at_idx').on(t.budgetResetAt),
])

/** Archived rows of deleted keys and teams: the row as it was, plus who deleted it and when. */
export const deletedKeys = sqliteTable(
  'deleted_keys',
  {
    id: text('id').primaryKey(),
    token: text('token').notNull(),
    keyAlias: text('key_alias'),
    userId: text('user_id'),
    teamId: text('team_id'),
    data: json<Json>('data').notNull(),
    deletedAt: at('deleted_at').notNull(),
    deletedBy: text('deleted_by'),
  },
  (t) => [index('deleted_keys_token_idx').on(t.token)],
)

export const deletedTeams = sqliteTable('deleted_teams', {
  id: text('id').primaryKey(),
  teamId: text('team_id').notNull(),
  teamAlias: text('team_alias'),
  data: json<Json>('data').notNull(),
  deletedAt: at('deleted_at').notNull(),
  deletedBy: text('deleted_by'),
})

export const keyRotations = sqliteTable(
  'key_rotations',
  {
    oldToken: text('old_token').primaryKey(),
    token: text('token').notNull(),
    revokeAt: at('revoke_at').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [index('key_rotations_token_idx').on(t.token)],
)

export const users = sqliteTable(
  'users',
  {
    userId: text('user_id').primaryKey(),
    userEmail: text('user_email'),
    userAlias: text('user_alias'),
    userRole: text('user_role').notNull(),
    passwordHash: text('password_hash'),
    models: json<string[]>('models').notNull(),
    metadata: json<Json>('metadata').notNull(),
    spend: money('spend').notNull().default(0),
    maxBudget: money('max_budget'),
    softBudget: money('soft_budget'),
    budgetDuration: text('budget_duration'),
    budgetResetAt: at('budget_reset_at'),
    tpmLimit: limit('tpm_limit'),
    rpmLimit: limit('rpm_limit'),
    maxParallelRequests: limit('max_parallel_requests'),
    ...lifecycle,
  },
  (t) => [
    uniqueIndex('users_user_email_unique').on(sql`lower(${t.userEmail})`),
    index('users_budget_reset_at_idx').on(t.budgetResetAt),
  ],
)

export const organizations = sqliteTable('organizations', {
  organizationId: text('organization_id').primaryKey(),
  organizationAlias: text('organization_alias').notNull(),
  budgetId: text('budget_id').notNull(),
  models: json<string[]>('models').notNull(),
  metadata: json<Json>('metadata').notNull(),
  spend: money('spend').notNull().default(0),
  ...lifecycle,
})

export const organizationMemberships = sqliteTable(
  'organization_memberships',
  {
    userId: text('user_id').notNull(),
    organizationId: text('organization_id').notNull(),
    userRole: text('user_role').notNull(),
    spend: money('spend').notNull().default(0),
    budgetId: text('budget_id'),
    ...lifecycle,
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.organizationId] }),
    index('organization_memberships_organization_id_idx').on(t.organizationId),
  ],
)

export const budgets = sqliteTable(
  'budgets',
  {
    budgetId: text('budget_id').primaryKey(),
    maxBudget: money('max_budget'),
    softBudget: money('soft_budget'),
    maxParallelRequests: limit('max_parallel_requests'),
    tpmLimit: limit('tpm_limit'),
    rpmLimit: limit('rpm_limit'),
    modelMaxBudget: json<Json>('model_max_budget'),
    budgetDuration: text('budget_duration'),
    budgetResetAt: at('budget_reset_at'),
    allowedModels: json<string[]>('allowed_models'),
    ...lifecycle,
  },
  (t) => [index('budgets_budget_reset_at_idx').on(t.budgetResetAt)],
)

export const endUsers = sqliteTable('end_users', {
  userId: text('user_id').primaryKey(),
  alias: text('alias'),
  spend: money('spend').notNull().default(0),
  budgetId: text('budget_id'),
  blocked: boolean('blocked').notNull().default(false),
  allowedModelRegion: text('allowed_model_region'),
  defaultModel: text('default_model'),
  metadata: json<Json>('metadata').notNull(),
  ...lifecycle,
})

export const tags = sqliteTable('tags', {
  tagName: text('tag_name').primaryKey(),
  description: text('description'),
  models: json<string[]>('models').notNull(),
  spend: money('spend').notNull().default(0),
  budgetId: text('budget_id'),
  ...lifecycle,
})

export const spendLogs = sqliteTable(
  'spend_logs',
  {
    requestId: text('request_id').primaryKey(),
    responseId: text('response_id'),
    callType: text('call_type').notNull(),
    apiKey: text('api_key').notNull(),
    spend: money('spend').notNull(),
    promptTokens: limit('prompt_tokens').notNull(),
    completionTokens: limit('completion_tokens').notNull(),
    totalTokens: limit('total_tokens').notNull(),
    startTime: at('start_time').notNull(),
    endTime: at('end_time').notNull(),
    completionStartTime: at('completion_start_time'),
    model: text('model').notNull(),
    modelGroup: text('model_group').notNull(),
    modelId: text('model_id').notNull(),
    provider: text('provider').notNull(),
    userId: text('user_id'),
    teamId: text('team_id'),
    organizationId: text('organization_id'),
    endUser: text('end_user'),
    requestTags: json<string[]>('request_tags').notNull(),
    status: text('status').notNull(),
    usageEstimated: boolean('usage_estimated').notNull().default(false),
    metadata: json<Json>('metadata').notNull(),
    requesterIpAddress: text('requester_ip_address'),
  },
  (t) => [
    index('spend_logs_start_time_idx').on(t.startTime),
    index('spend_logs_api_key_start_time_idx').on(t.apiKey, t.startTime),
    index('spend_logs_team_id_start_time_idx').on(t.teamId, t.startTime),
    index('spend_logs_end_user_idx').on(t.endUser),
    index('spend_logs_response_id_idx').on(t.responseId),
  ],
)

/** Daily rollups; the identifying columns are never null ('' when absent) so the unique index works on both engines. */
export const dailySpend = sqliteTable(
  'daily_spend',
  {
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    date: text('date').notNull(),
    apiKey: text('api_key').notNull(),
    modelGroup: text('model_group').notNull(),
    model: text('model').notNull(),
    provider: text('provider').notNull(),
    promptTokens: limit('prompt_tokens').notNull().default(0),
    completionTokens: limit('completion_tokens').notNull().default(0),
    spend: money('spend').notNull().default(0),
    apiRequests: limit('api_requests').notNull().default(0),
    successfulRequests: limit('successful_requests').notNull().default(0),
    failedRequests: limit('failed_requests').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.entityType, t.entityId, t.date, t.apiKey, t.modelGroup, t.model, t.provider] }),
    index('daily_spend_date_idx').on(t.date),
    // Reports read one entity type over a date range.
    index('daily_spend_entity_type_date_idx').on(t.entityType, t.date),
  ],
)

/**
 * Request ids whose settlement has been applied: the exactly-once gate of spend accounting, independent of
 * whether raw spend_logs rows are kept (`disable_spend_logs`) or pruned. Pruned after a horizon.
 */
export const settledRequests = sqliteTable(
  'settled_requests',
  {
    requestId: text('request_id').primaryKey(),
    settledAt: at('settled_at').notNull(),
  },
  (t) => [index('settled_requests_settled_at_idx').on(t.settledAt)],
)

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    changedAt: at('changed_at').notNull(),
    changedBy: text('changed_by').notNull(),
    changedByApiKey: text('changed_by_api_key'),
    action: text('action').notNull(),
    route: text('route'),
    tableName: text('table_name').notNull(),
    objectId: text('object_id').notNull(),
    beforeValue: json<Json>('before_value'),
    updatedValues: json<Json>('updated_values'),
    /** The organization the changed object belonged to (team, key, membership …): an org admin's audit view. */
    organizationId: text('organization_id'),
  },
  (t) => [
    index('audit_log_changed_at_idx').on(t.changedAt),
    index('audit_log_object_idx').on(t.tableName, t.objectId),
    index('audit_log_organization_idx').on(t.organizationId, t.changedAt),
  ],
)

export const settings = sqliteTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
})

export const jobLeases = sqliteTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: at('expires_at').notNull(),
})
