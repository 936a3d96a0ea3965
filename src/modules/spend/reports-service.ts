/**
 * Spend reports, all read from the daily rollup table (`daily_spend`) so they stay fast when spend_logs holds
 * millions of rows, and keep working with `disable_spend_logs`: `/global/spend`, `/global/spend/report`,
 * `/global/spend/keys|teams|models|end_users`, `/global/activity`, `/spend/tags`.
 *
 * Rollups are per UTC day: ranges are whole days (start and end inclusive).
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import type { DailySpendLineItem, DailySpendSums } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { utcDay } from '../../lib/time'
import { dayRange, last30Days, parseMoment, type DayRange } from './dates'
import { keyHashOf } from './logs-service'
import type { EndUsersSpendBody, SpendReportQuery } from './model'
import { spendScopeOf } from './spend-scope'

type Deps = Pick<AppContext, 'repos' | 'clock' | 'settings'>

const GROUPS = ['team', 'customer', 'api_key', 'model', 'tag'] as const
type Group = (typeof GROUPS)[number]

const tokens = (row: Pick<DailySpendSums, 'promptTokens' | 'completionTokens'>) => row.promptTokens + row.completionTokens
/** `2024-04-30T00:00:00+00:00`, as LiteLLM prints `date_trunc('day', …)`. */
const dayStamp = (day: string) => `${day}T00:00:00+00:00`

/** Sorts by spend, highest first; ties by name so the order is stable. */
function bySpend<T>(spend: (item: T) => number, name: (item: T) => string) {
  return (a: T, b: T) => spend(b) - spend(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0)
}

/** Groups rows by a key, keeping first-seen order. */
function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const row of rows) {
    const id = key(row)
    const list = groups.get(id) ?? []
    list.push(row)
    groups.set(id, list)
  }
  return groups
}

const sum = <T>(rows: readonly T[], value: (row: T) => number) => rows.reduce((total, row) => total + value(row), 0)

export async function globalSpend(deps: Deps) {
  const [total] = await deps.repos.dailySpend.summarize({ entityType: 'key', ...last30Days(deps.clock.now()) }, [])
  return { spend: total?.spend ?? 0, max_budget: deps.settings.config.litellm_settings.max_budget ?? 0 }
}

/** `/global/spend/report`; a caller other than an admin role sees the spend of the keys they may read (§4). */
export async function spendReport(deps: Deps, principal: Principal, query: SpendReportQuery) {
  const scope = await spendScopeOf(deps.repos, principal)
  const range: Range = { ...dayRange(query.start_date, query.end_date, true)!, ...(scope ? { apiKeys: scope.apiKeys } : {}) }
  const group = (query.group_by ?? 'team') as Group
  if (!GROUPS.includes(group)) {
    throw badRequest(`Invalid group_by '${query.group_by}': expected one of ${GROUPS.join(', ')}`, 'group_by')
  }
  if (query.api_key !== undefined) return keyReport(deps, range, { apiKey: keyHashOf(query.api_key) })
  if (query.internal_user_id !== undefined) return keyReport(deps, range, { userId: query.internal_user_id })
  if (group === 'api_key') return keyReport(deps, range, {})
  if (group === 'team') return teamReport(deps, range, query.team_id)
  if (group === 'customer') return customerReport(deps, range, query.customer_id)
  return group === 'model' ? modelReport(deps, range) : tagReport(deps, range)
}

/** A day range, and for non-admins the keys whose rollup rows they may read. */
type Range = DayRange & { apiKeys?: readonly string[] }

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Day → entity → one line per (model, key), days and entities in order. Lines come from `lineItems`, which
 * skips SQL grouping: a month of team lines is tens of thousands of rows that are already (nearly) one per line.
 */
function nestLines(lines: readonly DailySpendLineItem[]): Array<[string, Array<[string, DailySpendLineItem[]]>]> {
  const days = new Map<string, Map<string, DailySpendLineItem[]>>()
  for (const line of lines) {
    let entities = days.get(line.date)
    if (!entities) days.set(line.date, (entities = new Map()))
    let list = entities.get(line.entityId)
    if (!list) entities.set(line.entityId, (list = []))
    list.push(line)
  }
  return [...days.keys()].sort(compare).map((day) => {
    const entities = days.get(day)!
    return [day, [...entities.keys()].sort(compare).map((id) => [id, mergeByModelAndKey(entities.get(id)!)] as [string, DailySpendLineItem[]])]
  })
}

/** Rollup rows that differ only in model group or provider are one line of the report. */
function mergeByModelAndKey(lines: DailySpendLineItem[]): DailySpendLineItem[] {
  lines.sort((a, b) => compare(a.model, b.model) || compare(a.apiKey, b.apiKey))
  const merged: DailySpendLineItem[] = []
  for (const line of lines) {
    const last = merged.at(-1)
    if (last && last.model === line.model && last.apiKey === line.apiKey) {
      merged[merged.length - 1] = { ...last, spend: last.spend + line.spend, totalTokens: last.totalTokens + line.totalTokens }
    } else merged.push(line)
  }
  return merged
}

const lineDetail = (line: DailySpendLineItem) => ({ model: line.model, spend: line.spend, total_tokens: line.totalTokens, api_key: line.apiKey })

async function teamReport(deps: Deps, range: Range, teamId: string | undefined) {
  const lines = await deps.repos.dailySpend.lineItems({ entityType: 'team', ...range, ...(teamId !== undefined ? { entityIds: [teamId] } : {}) })
  const teamIds = [...new Set(lines.map((line) => line.entityId).filter(Boolean))]
  const aliases = new Map((await deps.repos.teams.getMany(teamIds)).map((team) => [team.teamId, team.teamAlias]))
  const name = (id: string) => (id ? (aliases.get(id) ?? id) : 'Unassigned Team')
  return nestLines(lines).map(([day, teams]) => ({
    group_by_day: dayStamp(day),
    teams: teams.map(([id, teamLines]) => ({ team_name: name(id), total_spend: sum(teamLines, (line) => line.spend), metadata: teamLines.map(lineDetail) })),
  }))
}

async function customerReport(deps: Deps, range: Range, customerId: string | undefined) {
  const lines = await deps.repos.dailySpend.lineItems({ entityType: 'end_user', ...range, ...(customerId !== undefined ? { entityIds: [customerId] } : {}) })
  return nestLines(lines).map(([day, customers]) => ({
    group_by_day: dayStamp(day),
    customers: customers.map(([id, customerLines]) => ({
      customer: id || null,
      total_spend: sum(customerLines, (line) => line.spend),
      metadata: customerLines.map(lineDetail),
    })),
  }))
}

async function modelReport(deps: Deps, range: Range) {
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'key', ...range }, ['date', 'model'])
  return [...groupBy(rows, (row) => row.date)].map(([day, dayRows]) => ({
    group_by_day: dayStamp(day),
    models: dayRows.map((row) => ({ model: row.model, total_spend: row.spend, total_tokens: tokens(row) })),
  }))
}

async function tagReport(deps: Deps, range: Range) {
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'tag', ...range }, ['date', 'entityId'])
  return [...groupBy(rows, (row) => row.date)].map(([day, dayRows]) => ({
    group_by_day: dayStamp(day),
    tags: dayRows.map((row) => ({ tag: row.entityId, total_spend: row.spend, total_tokens: tokens(row) })),
  }))
}

/** LiteLLM's per-key shape over the whole range: every key (or one key, or one user's keys) with its models. */
async function keyReport(deps: Deps, range: Range, only: { apiKey?: string; userId?: string }) {
  const rows =
    only.userId !== undefined
      ? await deps.repos.dailySpend.summarize({ entityType: 'user', entityIds: [only.userId], ...range }, ['apiKey', 'model'])
      : await deps.repos.dailySpend.summarize({ entityType: 'key', ...range, ...(only.apiKey !== undefined ? { apiKey: only.apiKey } : {}) }, ['apiKey', 'model'])
  return [...groupBy(rows, (row) => row.apiKey)]
    .map(([apiKey, keyRows]) => ({
      api_key: apiKey,
      total_cost: sum(keyRows, (row) => row.spend),
      total_input_tokens: sum(keyRows, (row) => row.promptTokens),
      total_output_tokens: sum(keyRows, (row) => row.completionTokens),
      model_details: keyRows.map((row) => ({
        model: row.model,
        total_cost: row.spend,
        total_input_tokens: row.promptTokens,
        total_output_tokens: row.completionTokens,
      })),
    }))
    .sort(bySpend((key) => key.total_cost, (key) => key.api_key))
}

/** The top keys of the last 30 days, with alias and name (`Last30dKeysBySpend`). */
export async function topKeys(deps: Deps, limit: number | undefined) {
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'key', excludeEntityIds: [''], ...last30Days(deps.clock.now()) }, ['apiKey'])
  const top = rows.sort(bySpend((row) => row.spend, (row) => row.apiKey)).slice(0, limit)
  const keys = new Map((await deps.repos.keys.getMany(top.map((row) => row.apiKey))).map((key) => [key.token, key]))
  return top.map((row) => ({
    api_key: row.apiKey,
    total_spend: row.spend,
    key_alias: keys.get(row.apiKey)?.keyAlias ?? null,
    key_name: keys.get(row.apiKey)?.keyName ?? null,
  }))
}

/** Daily spend per team over the last 30 days, as the admin UI reads it. */
export async function teamsDailySpend(deps: Deps) {
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'team', ...last30Days(deps.clock.now()) }, ['date', 'entityId'])
  const aliases = new Map((await deps.repos.teams.getMany([...new Set(rows.map((row) => row.entityId).filter(Boolean))])).map((team) => [team.teamId, team.teamAlias]))
  const name = (id: string) => (id ? (aliases.get(id) ?? id) : 'Unassigned')
  const totals = new Map<string, number>()
  for (const row of rows) totals.set(name(row.entityId), (totals.get(name(row.entityId)) ?? 0) + row.spend)
  return {
    daily_spend: [...groupBy(rows, (row) => row.date)].map(([date, dayRows]) => {
      const day: Record<string, string | number> = { date }
      // Teams sharing an alias share a column, as in LiteLLM.
      for (const row of dayRows) day[name(row.entityId)] = ((day[name(row.entityId)] as number | undefined) ?? 0) + row.spend
      return day
    }),
    teams: [...totals.keys()],
    total_spend_per_team: [...totals]
      .sort(bySpend(([, spend]) => spend, ([team]) => team))
      .slice(0, 10)
      .map(([team, spend]) => ({ team_id: team, total_spend: spend })),
  }
}

export async function topModels(deps: Deps, limit: number) {
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'key', ...last30Days(deps.clock.now()) }, ['model'])
  return rows
    .filter((row) => row.model !== '')
    .sort(bySpend((row) => row.spend, (row) => row.model))
    .slice(0, limit)
    .map((row) => ({ model: row.model, total_spend: row.spend }))
}

/** The top 100 end users by spend in a window (default: the last 30 days), optionally for one key. */
export async function topEndUsers(deps: Deps, body: EndUsersSpendBody) {
  const now = deps.clock.now()
  const from = body?.startTime ? utcDay(parseMoment('startTime', body.startTime)) : last30Days(now).from
  const to = body?.endTime ? utcDay(parseMoment('endTime', body.endTime)) : utcDay(now)
  if (from > to) throw badRequest(`Invalid date range: startTime ${from} is after endTime ${to}`, 'startTime')
  const rows = await deps.repos.dailySpend.summarize(
    { entityType: 'end_user', excludeEntityIds: [''], from, to, ...(body?.api_key ? { apiKey: keyHashOf(body.api_key) } : {}) },
    ['entityId'],
  )
  return rows
    .sort(bySpend((row) => row.spend, (row) => row.entityId))
    .slice(0, 100)
    .map((row) => ({ end_user: row.entityId, total_count: row.apiRequests, total_spend: row.spend }))
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export async function globalActivity(deps: Deps, start: string | undefined, end: string | undefined) {
  const range = dayRange(start, end, true)!
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'key', ...range }, ['date'])
  return {
    // LiteLLM's chart labels ("Jan 22"), in date order.
    daily_data: rows.map((row) => ({ date: `${MONTHS[Number(row.date.slice(5, 7)) - 1]} ${row.date.slice(8)}`, api_requests: row.apiRequests, total_tokens: tokens(row) })),
    sum_api_requests: sum(rows, (row) => row.apiRequests),
    sum_total_tokens: sum(rows, tokens),
  }
}

export async function tagSpend(deps: Deps, start: string | undefined, end: string | undefined) {
  const range = dayRange(start, end, false)
  const rows = await deps.repos.dailySpend.summarize({ entityType: 'tag', ...(range ?? {}) }, ['entityId'])
  return rows
    .sort(bySpend((row) => row.spend, (row) => row.entityId))
    .map((row) => ({ individual_request_tag: row.entityId, log_count: row.apiRequests, total_spend: row.spend }))
}
