import { and, asc, count, desc, eq, gte, inArray, lt, lte, notInArray, or, sql, type SQL } from 'drizzle-orm'
import type {
  DailySpendDimension,
  DailySpendIncrement,
  DailySpendQuery,
  DailySpendRepository,
  Page,
  Paged,
  SettledRequestRepository,
  SpendLogFilter,
  SpendLogRepository,
} from '../ports'
import type { Tables } from '../types'
import { insertRows } from './bulk'
import type { RepositoryContext } from './context'

export function spendLogRepository(ctx: RepositoryContext): SpendLogRepository {
  const { db, t } = ctx
  const s = t.spendLogs
  return {
    async insertMany(rows) {
      const inserted = await insertRows(ctx, s, rows, 'on conflict ("request_id") do nothing returning "request_id"')
      return inserted.map((row) => String(row.request_id))
    },
    async get(requestId) {
      const [row] = await db.select().from(s).where(eq(s.requestId, requestId)).limit(1)
      return row ?? null
    },
    list: (filter, page) => pagedRows(ctx, s, spendLogWhere(ctx, filter), [desc(s.startTime), desc(s.requestId)], page),
    async summarizeByDay(filter) {
      const day = ctx.dialect.utcDayOf(s.startTime)
      const rows = await db
        .select({ day, apiKey: s.apiKey, userId: s.userId, model: s.model, spend: sql<number>`sum(${s.spend})`.mapWith(Number) })
        .from(s)
        .where(spendLogWhere(ctx, filter))
        .groupBy(day, s.apiKey, s.userId, s.model)
        .orderBy(day, s.apiKey, s.userId, s.model)
      return rows
    },
    async deleteOlderThan(cutoff, limit) {
      const older = lt(s.startTime, cutoff)
      const where = limit === undefined ? older : inArray(s.requestId, db.select({ id: s.requestId }).from(s).where(older).limit(limit))
      const rows = await db.delete(s).where(where).returning({ requestId: s.requestId })
      return rows.length
    },
  }
}

/** One page of a table's rows in `orderBy` order, and how many rows match. */
async function pagedRows<T extends Tables['spendLogs'] | Tables['dailySpend']>(
  ctx: RepositoryContext,
  table: T,
  where: SQL | undefined,
  orderBy: SQL[],
  page: Page,
): Promise<Paged<T['$inferSelect']>> {
  const rows = await ctx.db
    .select()
    .from(table as Tables['spendLogs'])
    .where(where)
    .orderBy(...orderBy)
    .limit(page.limit)
    .offset(page.offset)
  const [{ total }] = await ctx.db.select({ total: count() }).from(table as Tables['spendLogs']).where(where)
  return { rows: rows as T['$inferSelect'][], total }
}

function spendLogWhere(ctx: RepositoryContext, filter: SpendLogFilter): SQL | undefined {
  const s = ctx.t.spendLogs
  const conditions: SQL[] = []
  if (filter.apiKey !== undefined) conditions.push(eq(s.apiKey, filter.apiKey))
  if (filter.userId !== undefined) conditions.push(eq(s.userId, filter.userId))
  if (filter.teamId !== undefined) conditions.push(eq(s.teamId, filter.teamId))
  if (filter.requestId !== undefined) conditions.push(or(eq(s.requestId, filter.requestId), eq(s.responseId, filter.requestId))!)
  if (filter.start !== undefined) conditions.push(gte(s.startTime, filter.start))
  if (filter.end !== undefined) conditions.push(lt(s.startTime, filter.end))
  if (filter.model !== undefined) conditions.push(eq(s.model, filter.model))
  if (filter.endUser !== undefined) conditions.push(eq(s.endUser, filter.endUser))
  if (filter.status !== undefined) conditions.push(eq(s.status, filter.status))
  if (filter.minSpend !== undefined) conditions.push(gte(s.spend, filter.minSpend))
  if (filter.maxSpend !== undefined) conditions.push(lte(s.spend, filter.maxSpend))
  if (filter.visibleTo !== undefined) {
    const { apiKeys = [], userIds = [], teamIds = [], organizationIds = [] } = filter.visibleTo
    const any = [
      apiKeys.length ? inArray(s.apiKey, [...apiKeys]) : undefined,
      userIds.length ? inArray(s.userId, [...userIds]) : undefined,
      teamIds.length ? inArray(s.teamId, [...teamIds]) : undefined,
      organizationIds.length ? inArray(s.organizationId, [...organizationIds]) : undefined,
    ].filter((condition): condition is SQL => condition !== undefined)
    conditions.push(any.length ? or(...any)! : sql`1 = 0`)
  }
  return conditions.length ? and(...conditions) : undefined
}

export function settledRequestRepository(ctx: RepositoryContext): SettledRequestRepository {
  const { db, t } = ctx
  const r = t.settledRequests
  return {
    async markSettled(requestIds, at) {
      const rows = [...new Set(requestIds)].map((requestId) => ({ requestId, settledAt: at }))
      const fresh = await insertRows(ctx, r, rows, 'on conflict ("request_id") do nothing returning "request_id"')
      return fresh.map((row) => String(row.request_id))
    },
    async deleteOlderThan(cutoff, limit) {
      const older = db.select({ id: r.requestId }).from(r).where(lt(r.settledAt, cutoff)).limit(limit)
      const rows = await db.delete(r).where(inArray(r.requestId, older)).returning({ requestId: r.requestId })
      return rows.length
    },
  }
}

const IDENTITY = ['entityType', 'entityId', 'date', 'apiKey', 'modelGroup', 'model', 'provider'] as const

function dailySpendWhere(ctx: RepositoryContext, query: DailySpendQuery): SQL {
  const d = ctx.t.dailySpend
  const conditions: SQL[] = [eq(d.entityType, query.entityType)]
  if (query.entityIds !== undefined) conditions.push(query.entityIds.length ? inArray(d.entityId, [...query.entityIds]) : sql`1 = 0`)
  if (query.excludeEntityIds?.length) conditions.push(notInArray(d.entityId, [...query.excludeEntityIds]))
  if (query.from !== undefined) conditions.push(gte(d.date, query.from))
  if (query.to !== undefined) conditions.push(lte(d.date, query.to))
  if (query.apiKey !== undefined) conditions.push(eq(d.apiKey, query.apiKey))
  if (query.apiKeys !== undefined) conditions.push(query.apiKeys.length ? inArray(d.apiKey, [...query.apiKeys]) : sql`1 = 0`)
  if (query.model !== undefined) conditions.push(eq(d.model, query.model))
  return and(...conditions)!
}

/** Adds rows with the same identity together first: one statement may not touch a row twice (Postgres). */
function mergeByIdentity(rows: readonly DailySpendIncrement[]): DailySpendIncrement[] {
  const merged = new Map<string, DailySpendIncrement>()
  for (const row of rows) {
    const id = JSON.stringify(IDENTITY.map((column) => row[column]))
    const existing = merged.get(id)
    if (!existing) {
      merged.set(id, { ...row })
      continue
    }
    existing.promptTokens += row.promptTokens
    existing.completionTokens += row.completionTokens
    existing.spend += row.spend
    existing.apiRequests += row.apiRequests
    existing.successfulRequests += row.successfulRequests
    existing.failedRequests += row.failedRequests
  }
  return [...merged.values()]
}

export function dailySpendRepository(ctx: RepositoryContext): DailySpendRepository {
  const { db, t } = ctx
  const d = t.dailySpend
  // Qualified with the table name: unqualified, Postgres finds the name ambiguous (target row vs. excluded).
  const added = (column: string) => `"${column}" = "daily_spend"."${column}" + excluded."${column}"`
  return {
    async increment(rows) {
      const merged = mergeByIdentity(rows)
      if (merged.length === 0) return
      const identity = IDENTITY.map((column) => `"${d[column].name}"`).join(', ')
      const sums = ['prompt_tokens', 'completion_tokens', 'spend', 'api_requests', 'successful_requests', 'failed_requests'].map(added).join(', ')
      await insertRows(ctx, d, merged, `on conflict (${identity}) do update set ${sums}`)
    },
    async summarize<D extends DailySpendDimension>(query: DailySpendQuery, groupBy: readonly D[]) {
      const dimensions = Object.fromEntries(groupBy.map((name) => [name, d[name]]))
      const rows = await db
        .select({
          ...dimensions,
          promptTokens: sql<number>`coalesce(sum(${d.promptTokens}), 0)`.mapWith(Number),
          completionTokens: sql<number>`coalesce(sum(${d.completionTokens}), 0)`.mapWith(Number),
          spend: sql<number>`coalesce(sum(${d.spend}), 0)`.mapWith(Number),
          apiRequests: sql<number>`coalesce(sum(${d.apiRequests}), 0)`.mapWith(Number),
          successfulRequests: sql<number>`coalesce(sum(${d.successfulRequests}), 0)`.mapWith(Number),
          failedRequests: sql<number>`coalesce(sum(${d.failedRequests}), 0)`.mapWith(Number),
        })
        .from(d)
        .where(dailySpendWhere(ctx, query))
        .groupBy(...groupBy.map((name) => d[name]))
        .orderBy(...groupBy.map((name) => asc(d[name])))
      return rows as never
    },
    async lineItems(query) {
      // A raw statement: a month of team lines is tens of thousands of rows, and the query builder's per-row
      // mapping costs more than the query.
      type Raw = { date: string; entity_id: string; model: string; api_key: string; spend: number; tokens: number | string }
      const rows = await ctx.dialect.queryRows<Raw>(
        db,
        sql`select ${d.date} as date, ${d.entityId} as entity_id, ${d.model} as model, ${d.apiKey} as api_key, ${d.spend} as spend,
          ${d.promptTokens} + ${d.completionTokens} as tokens from ${d} where ${dailySpendWhere(ctx, query)}`,
      )
      return rows.map((row) => ({ date: row.date, entityId: row.entity_id, model: row.model, apiKey: row.api_key, spend: Number(row.spend), totalTokens: Number(row.tokens) }))
    },
    page: (query, page) =>
      pagedRows(ctx, d, dailySpendWhere(ctx, query), [desc(d.date), ...IDENTITY.filter((column) => column !== 'date').map((column) => asc(d[column]))], page),
    list: (filter) =>
      db
        .select()
        .from(d)
        .where(
          and(
            eq(d.entityType, filter.entityType),
            filter.entityIds !== undefined ? inArray(d.entityId, filter.entityIds.length ? [...filter.entityIds] : ['']) : undefined,
            gte(d.date, filter.from),
            sql`${d.date} <= ${filter.to}`,
          ),
        )
        .orderBy(d.date, d.entityId),
  }
}
