import { and, count, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm'
import type { DailySpendIncrement, DailySpendRepository, SpendLogRepository } from '../ports'
import type { RepositoryContext } from './context'

/** Rows per INSERT statement: well under both engines' bound-parameter limits at 24 columns a row. */
const INSERT_CHUNK = 400

export function spendLogRepository(ctx: RepositoryContext): SpendLogRepository {
  const { db, t } = ctx
  const s = t.spendLogs
  return {
    async insertMany(rows) {
      const inserted: string[] = []
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK)
        const result = await db
          .insert(s)
          .values([...chunk])
          .onConflictDoNothing({ target: s.requestId })
          .returning({ requestId: s.requestId })
        for (const row of result) inserted.push(row.requestId)
      }
      return inserted
    },
    async get(requestId) {
      const [row] = await db.select().from(s).where(eq(s.requestId, requestId)).limit(1)
      return row ?? null
    },
    async list(filter, page) {
      const conditions = []
      if (filter.apiKey !== undefined) conditions.push(eq(s.apiKey, filter.apiKey))
      if (filter.userId !== undefined) conditions.push(eq(s.userId, filter.userId))
      if (filter.teamId !== undefined) conditions.push(eq(s.teamId, filter.teamId))
      if (filter.requestId !== undefined) conditions.push(or(eq(s.requestId, filter.requestId), eq(s.responseId, filter.requestId))!)
      if (filter.start !== undefined) conditions.push(gte(s.startTime, filter.start))
      if (filter.end !== undefined) conditions.push(lt(s.startTime, filter.end))
      const where = conditions.length ? and(...conditions) : undefined
      const rows = await db
        .select()
        .from(s)
        .where(where)
        .orderBy(desc(s.startTime), desc(s.requestId))
        .limit(page.limit)
        .offset(page.offset)
      const [{ total }] = await db.select({ total: count() }).from(s).where(where)
      return { rows, total }
    },
    async deleteOlderThan(cutoff) {
      const rows = await db.delete(s).where(lt(s.startTime, cutoff)).returning({ requestId: s.requestId })
      return rows.length
    },
  }
}

const IDENTITY = ['entityType', 'entityId', 'date', 'apiKey', 'modelGroup', 'model', 'provider'] as const

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
  const added = (column: string) => sql.raw(`"daily_spend"."${column}" + excluded."${column}"`)
  return {
    async increment(rows) {
      const merged = mergeByIdentity(rows)
      for (let i = 0; i < merged.length; i += INSERT_CHUNK) {
        await db
          .insert(d)
          .values(merged.slice(i, i + INSERT_CHUNK))
          .onConflictDoUpdate({
            target: IDENTITY.map((column) => d[column]),
            set: {
              promptTokens: added('prompt_tokens'),
              completionTokens: added('completion_tokens'),
              spend: added('spend'),
              apiRequests: added('api_requests'),
              successfulRequests: added('successful_requests'),
              failedRequests: added('failed_requests'),
            },
          })
      }
    },
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
