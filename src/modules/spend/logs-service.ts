/**
 * Raw spend: `/spend/logs` (rows or per-day summaries), `/spend/logs/ui` (pages), and the entity spend lists
 * `/spend/keys` and `/spend/users` (stored spend plus this instance's unflushed spend).
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import type { SpendLogFilter } from '../../db/ports'
import { sha256Hex } from '../../lib/secrets'
import { dayRange, daysOf, parseMoment, rangeBounds } from './dates'
import { spendScopeOf } from './spend-scope'
import { keySpendResponse, spendLogResponse, userSpendResponse, type SpendLogsQuery, type SpendLogsUiQuery } from './model'

type Deps = Pick<AppContext, 'repos' | 'spend'>

/** Raw rows stop here, newest first. */
export const RAW_ROW_CAP = 10_000

/** A key given as plaintext (`sk-…`, hashed on arrival) or as its 64-hex hash. */
export function keyHashOf(value: string): string {
  return value.startsWith('sk-') ? sha256Hex(value) : value
}

export async function spendLogs(deps: Deps, principal: Principal, query: SpendLogsQuery) {
  const range = dayRange(query.start_date, query.end_date, false)
  const filter: SpendLogFilter = {
    visibleTo: (await spendScopeOf(deps.repos, principal))?.rows,
    apiKey: query.api_key === undefined ? undefined : keyHashOf(query.api_key),
    userId: query.user_id,
    teamId: query.team_id,
    requestId: query.request_id,
    ...(range ? rangeBounds(range) : {}),
  }
  if (range && query.summarize !== false) {
    const rows = await deps.repos.spendLogs.summarizeByDay(filter)
    const days = new Map(daysOf(range).map((day) => [day, { startTime: day, spend: 0, users: {} as Record<string, number>, models: {} as Record<string, number> } as Record<string, any>]))
    for (const row of rows) {
      const day = days.get(row.day)
      if (!day) continue
      day.spend += row.spend
      // LiteLLM's summary keys users by id (a row without a user under "null") and adds one entry per key hash.
      const user = row.userId ?? 'null'
      day.users[user] = (day.users[user] ?? 0) + row.spend
      day.models[row.model] = (day.models[row.model] ?? 0) + row.spend
      day[row.apiKey] = (day[row.apiKey] ?? 0) + row.spend
    }
    return [...days.values()]
  }
  const { rows } = await deps.repos.spendLogs.list(filter, { offset: 0, limit: RAW_ROW_CAP })
  return rows.map(spendLogResponse)
}

export async function spendLogsPage(deps: Deps, principal: Principal, query: SpendLogsUiQuery) {
  const filter: SpendLogFilter = {
    visibleTo: (await spendScopeOf(deps.repos, principal))?.rows,
    apiKey: query.api_key === undefined ? undefined : keyHashOf(query.api_key),
    userId: query.user_id,
    teamId: query.team_id,
    requestId: query.request_id,
    model: query.model,
    endUser: query.end_user,
    status: query.status_filter,
    minSpend: query.min_spend,
    maxSpend: query.max_spend,
    start: query.start_date === undefined ? undefined : parseMoment('start_date', query.start_date),
    end: query.end_date === undefined ? undefined : parseMoment('end_date', query.end_date),
  }
  const { rows, total } = await deps.repos.spendLogs.list(filter, { offset: (query.page - 1) * query.page_size, limit: query.page_size })
  return {
    data: rows.map(spendLogResponse),
    total,
    page: query.page,
    page_size: query.page_size,
    total_pages: Math.ceil(total / query.page_size),
  }
}

/** Highest spend first, counting what this instance has not flushed yet. */
const bySpendDesc = <T extends { spend: number }>(items: T[]) => items.sort((a, b) => b.spend - a.spend)

export async function keysBySpend(deps: Deps) {
  const { rows } = await deps.repos.keys.list({}, { offset: 0, limit: RAW_ROW_CAP }, { by: 'spend', order: 'desc' })
  return bySpendDesc(rows.map((row) => keySpendResponse(row, row.spend + deps.spend.pendingSpend('key', row.token))))
}

export async function usersBySpend(deps: Deps, userId: string | undefined) {
  const rows =
    userId === undefined
      ? (await deps.repos.users.list({}, { offset: 0, limit: RAW_ROW_CAP }, { by: 'spend', order: 'desc' })).rows
      : await deps.repos.users.getMany([userId])
  return bySpendDesc(rows.map((row) => userSpendResponse(row, row.spend + deps.spend.pendingSpend('user', row.userId))))
}
