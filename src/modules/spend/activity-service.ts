/**
 * `/{user|team|customer|tag}/daily/activity`: LiteLLM's paginated spend analytics, read from the daily rollup
 * table. As in LiteLLM, a page is a page of rollup rows (newest day first), grouped by day into `results`
 * with `metrics` and a `breakdown` by model, model group, provider, api key and entity; `metadata` carries the
 * page's totals and the paging.
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import type { DailySpendRow } from '../../db/ports'
import { dayRange } from './dates'
import { keyHashOf } from './logs-service'
import type { ActivityQuery } from './model'
import { spendScopeOf } from './spend-scope'

type Deps = Pick<AppContext, 'repos'>

export type ActivityEntity = 'user' | 'team' | 'end_user' | 'tag'
/** Page size when the caller gives none (LiteLLM's defaults: 50 for users, 10 elsewhere). */
const DEFAULT_PAGE_SIZE: Record<ActivityEntity, number> = { user: 50, team: 10, end_user: 10, tag: 10 }

type Metrics = {
  spend: number
  prompt_tokens: number
  completion_tokens: number
  cache_read_input_tokens: number
  cache_creation_input_tokens: number
  total_tokens: number
  successful_requests: number
  failed_requests: number
  api_requests: number
}

const emptyMetrics = (): Metrics => ({
  spend: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  total_tokens: 0,
  successful_requests: 0,
  failed_requests: 0,
  api_requests: 0,
})

function add(metrics: Metrics, row: DailySpendRow): void {
  metrics.spend += row.spend
  metrics.prompt_tokens += row.promptTokens
  metrics.completion_tokens += row.completionTokens
  metrics.total_tokens += row.promptTokens + row.completionTokens
  metrics.successful_requests += row.successfulRequests
  metrics.failed_requests += row.failedRequests
  metrics.api_requests += row.apiRequests
}

type KeyMetadata = { key_alias: string | null; team_id: string | null }
type KeyEntry = { metrics: Metrics; metadata: KeyMetadata }
type Entry = { metrics: Metrics; metadata: Record<string, unknown>; api_key_breakdown: Record<string, KeyEntry> }
type Breakdown = {
  models: Record<string, Entry>
  model_groups: Record<string, Entry>
  mcp_servers: Record<string, Entry>
  providers: Record<string, Entry>
  api_keys: Record<string, KeyEntry>
  entities: Record<string, Entry>
}
type Day = { date: string; metrics: Metrics; breakdown: Breakdown }

function entryIn(map: Record<string, Entry>, name: string, metadata: Record<string, unknown> = {}): Entry {
  return (map[name] ??= { metrics: emptyMetrics(), metadata, api_key_breakdown: {} })
}

function keyEntryIn(map: Record<string, KeyEntry>, apiKey: string, keys: Map<string, KeyMetadata>): KeyEntry {
  return (map[apiKey] ??= { metrics: emptyMetrics(), metadata: keys.get(apiKey) ?? { key_alias: null, team_id: null } })
}

export async function dailyActivity(deps: Deps, principal: Principal, entity: ActivityEntity, entityIds: string[] | undefined, query: ActivityQuery) {
  const range = dayRange(query.start_date, query.end_date, true)!
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE[entity]
  const scope = await spendScopeOf(deps.repos, principal)
  const { rows, total } = await deps.repos.dailySpend.page(
    {
      ...(scope ? { apiKeys: scope.apiKeys } : {}),
      entityType: entity,
      ...range,
      ...(entityIds !== undefined ? { entityIds } : {}),
      // Requests without a user/team/end user are not an entity's activity.
      excludeEntityIds: [''],
      ...(query.model !== undefined ? { model: query.model } : {}),
      ...(query.api_key !== undefined ? { apiKey: keyHashOf(query.api_key) } : {}),
    },
    { offset: (query.page - 1) * pageSize, limit: pageSize },
  )
  const keyRows = await deps.repos.keys.getMany([...new Set(rows.map((row) => row.apiKey).filter(Boolean))])
  const keys = new Map(keyRows.map((key) => [key.token, { key_alias: key.keyAlias, team_id: key.teamId }]))
  const teamAliases =
    entity === 'team' ? new Map((await deps.repos.teams.getMany([...new Set(rows.map((row) => row.entityId))])).map((team) => [team.teamId, team.teamAlias])) : null

  const totals = emptyMetrics()
  const days = new Map<string, Day>()
  for (const row of rows) {
    add(totals, row)
    const day = days.get(row.date) ?? { date: row.date, metrics: emptyMetrics(), breakdown: { models: {}, model_groups: {}, mcp_servers: {}, providers: {}, api_keys: {}, entities: {} } }
    days.set(row.date, day)
    add(day.metrics, row)
    const { breakdown } = day
    const entries = [
      entryIn(breakdown.models, row.model),
      entryIn(breakdown.model_groups, row.modelGroup || row.model),
      entryIn(breakdown.providers, row.provider || 'unknown'),
      entryIn(breakdown.entities, row.entityId, teamAliases ? { team_alias: teamAliases.get(row.entityId) ?? null } : {}),
    ]
    for (const entry of entries) {
      add(entry.metrics, row)
      add(keyEntryIn(entry.api_key_breakdown, row.apiKey, keys).metrics, row)
    }
    add(keyEntryIn(breakdown.api_keys, row.apiKey, keys).metrics, row)
  }
  return {
    results: [...days.values()],
    metadata: {
      total_spend: totals.spend,
      total_prompt_tokens: totals.prompt_tokens,
      total_completion_tokens: totals.completion_tokens,
      total_tokens: totals.total_tokens,
      total_api_requests: totals.api_requests,
      total_successful_requests: totals.successful_requests,
      total_failed_requests: totals.failed_requests,
      total_cache_read_input_tokens: 0,
      total_cache_creation_input_tokens: 0,
      page: query.page,
      total_pages: Math.ceil(total / pageSize),
      has_more: query.page * pageSize < total,
    },
  }
}

/** `a,b` → `['a', 'b']`; absent → no filter. */
export function idList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean)
}
