import { and, asc, count, desc, eq, inArray, isNotNull, lte, or } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { ArchiveRepository, KeyInsert, KeyRepository, KeyRotationRepository, KeyRow, KeySortColumn } from '../ports'
import { newId } from '../../lib/ids'
import { nowOf, type RepositoryContext } from './context'
import { addSpend, addSpendInOrder, budgetWindows, entityRepository, lockInChunks, zeroAllSpend } from './entity'
import { increment } from './expressions'

export function keyRepository(ctx: RepositoryContext): KeyRepository {
  const { db, t } = ctx
  const k = t.keys
  const sortColumns: Record<KeySortColumn, AnyPgColumn> = {
    spend: k.spend,
    max_budget: k.maxBudget,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
    token: k.token,
    key_alias: k.keyAlias,
  }
  return {
    ...entityRepository<KeyRow, KeyInsert>(ctx, k, k.token),
    addSpend: addSpend(ctx, k, k.token),
    addSpendInOrder: addSpendInOrder<string>(ctx, k, [k.token], (id) => [id]),
    zeroAllSpend: zeroAllSpend(ctx, k, { modelSpend: {} }),
    ...budgetWindows<KeyRow>(ctx, k, k.token, { modelSpend: {} }),
    async getByAlias(alias) {
      const [row] = await db.select().from(k).where(eq(k.keyAlias, alias)).limit(1)
      return row ?? null
    },
    listByTeam: (teamId) => db.select().from(k).where(eq(k.teamId, teamId)).orderBy(asc(k.createdAt), asc(k.token)),
    listByUser: (userId) => db.select().from(k).where(eq(k.userId, userId)).orderBy(asc(k.createdAt), asc(k.token)),
    async countByUsers(userIds) {
      if (userIds.length === 0) return new Map()
      const rows = await db
        .select({ userId: k.userId, n: count() })
        .from(k)
        .where(inArray(k.userId, [...userIds]))
        .groupBy(k.userId)
      return new Map(rows.map((row) => [row.userId!, row.n]))
    },
    async list(filter, page, sort = { by: 'created_at', order: 'desc' }) {
      const conditions = []
      if (filter.userId !== undefined) conditions.push(eq(k.userId, filter.userId))
      if (filter.teamId !== undefined) conditions.push(eq(k.teamId, filter.teamId))
      if (filter.organizationId !== undefined) conditions.push(eq(k.organizationId, filter.organizationId))
      if (filter.keyAlias !== undefined) conditions.push(eq(k.keyAlias, filter.keyAlias))
      if (filter.tokens !== undefined) conditions.push(inArray(k.token, filter.tokens.length ? [...filter.tokens] : ['']))
      if (filter.visibleTo) {
        const { userIds, teamIds, organizationIds = [] } = filter.visibleTo
        conditions.push(
          or(
            inArray(k.userId, userIds.length ? [...userIds] : ['']),
            inArray(k.teamId, teamIds.length ? [...teamIds] : ['']),
            inArray(k.organizationId, organizationIds.length ? [...organizationIds] : ['']),
          )!,
        )
      }
      const where = conditions.length ? and(...conditions) : undefined
      const column = sortColumns[sort.by]
      const direction = sort.order === 'asc' ? asc : desc
      const rows = await db
        .select()
        .from(k)
        .where(where)
        .orderBy(direction(column), asc(k.token))
        .limit(page.limit)
        .offset(page.offset)
      const [{ total }] = await db.select({ total: count() }).from(k).where(where)
      return { rows, total }
    },
    async addModelSpend(token, model, amount) {
      // model_spend is a small JSON map; this read-modify-write runs only inside the spend flusher's transaction,
      // which is the single writer of spend.
      const [row] = await db.select({ modelSpend: k.modelSpend }).from(k).where(eq(k.token, token)).limit(1)
      if (!row) return
      const next = { ...row.modelSpend, [model]: (row.modelSpend[model] ?? 0) + amount }
      await db.update(k).set({ modelSpend: next }).where(eq(k.token, token))
    },
    async addModelSpendInOrder(increments) {
      const byToken = new Map<string, { model: string; amounts: readonly number[] }[]>()
      for (const increment of increments) {
        if (increment.amounts.length === 0) continue
        const list = byToken.get(increment.token) ?? []
        list.push(increment)
        byToken.set(increment.token, list)
      }
      const tokens = [...byToken.keys()].sort()
      if (tokens.length === 0) return
      // A read-modify-write of a small JSON map, safe because the rows are locked (Postgres) or the database is
      // (libSQL, one writer) until the settling transaction commits.
      await lockInChunks(ctx, k, [k.token], tokens.map((token) => eq(k.token, token)))
      const rows = await db.select({ token: k.token, modelSpend: k.modelSpend }).from(k).where(inArray(k.token, tokens))
      const current = new Map(rows.map((row) => [row.token, row.modelSpend]))
      for (const token of tokens) {
        const before = current.get(token)
        if (!before) continue
        const next = { ...before }
        for (const { model, amounts } of byToken.get(token)!) {
          next[model] = amounts.reduce((sum, amount) => sum + amount, next[model] ?? 0)
        }
        await db.update(k).set({ modelSpend: next }).where(eq(k.token, token))
      }
    },
    async changeToken(oldToken, newToken, keyName) {
      const [row] = await db
        .update(k)
        .set({ token: newToken, keyName, version: increment(k.version), updatedAt: nowOf(ctx) })
        .where(eq(k.token, oldToken))
        .returning()
      return row ?? null
    },
    async listAliases(search, page) {
      const conditions = [isNotNull(k.keyAlias)]
      if (search) conditions.push(ctx.dialect.containsIgnoringCase(k.keyAlias, search))
      const where = and(...conditions)
      const rows = await db.select({ alias: k.keyAlias }).from(k).where(where).orderBy(asc(k.keyAlias)).limit(page.limit).offset(page.offset)
      const [{ total }] = await db.select({ total: count() }).from(k).where(where)
      return { rows: rows.map((row) => row.alias!), total }
    },
  }
}

export function keyRotationRepository(ctx: RepositoryContext): KeyRotationRepository {
  const { db, t } = ctx
  const r = t.keyRotations
  return {
    async insert(row) {
      await db.insert(r).values(row).onConflictDoUpdate({ target: r.oldToken, set: { token: row.token, revokeAt: row.revokeAt } })
    },
    async get(oldToken) {
      const [row] = await db.select().from(r).where(eq(r.oldToken, oldToken)).limit(1)
      return row ?? null
    },
    listByToken: (token) => db.select().from(r).where(eq(r.token, token)).orderBy(asc(r.oldToken)),
    async deleteByToken(token) {
      await db.delete(r).where(eq(r.token, token))
    },
    async deleteExpired(now) {
      const rows = await db.delete(r).where(lte(r.revokeAt, now)).returning({ oldToken: r.oldToken })
      return rows.length
    },
  }
}

export function archiveRepository(ctx: RepositoryContext): ArchiveRepository {
  const { db, t } = ctx
  return {
    async archiveKeys(rows, meta) {
      if (rows.length === 0) return
      await db.insert(t.deletedKeys).values(
        rows.map((row) => ({
          id: newId(),
          token: row.token,
          keyAlias: row.keyAlias,
          userId: row.userId,
          teamId: row.teamId,
          data: toJson(row),
          deletedAt: meta.deletedAt,
          deletedBy: meta.deletedBy,
        })),
      )
    },
    async archiveTeam(row, meta) {
      await db.insert(t.deletedTeams).values({
        id: newId(),
        teamId: row.teamId,
        teamAlias: row.teamAlias,
        data: toJson(row),
        deletedAt: meta.deletedAt,
        deletedBy: meta.deletedBy,
      })
    },
    async deletedKeys(filter) {
      const conditions = []
      if (filter.teamId !== undefined) conditions.push(eq(t.deletedKeys.teamId, filter.teamId))
      if (filter.userId !== undefined) conditions.push(eq(t.deletedKeys.userId, filter.userId))
      if (filter.token !== undefined) conditions.push(eq(t.deletedKeys.token, filter.token))
      return db
        .select()
        .from(t.deletedKeys)
        .where(conditions.length ? and(...conditions) : undefined)
        .orderBy(desc(t.deletedKeys.deletedAt))
    },
    deletedTeams: (teamId) =>
      db.select().from(t.deletedTeams).where(eq(t.deletedTeams.teamId, teamId)).orderBy(desc(t.deletedTeams.deletedAt)),
  }
}

/** A row as JSON: dates become ISO strings so the archive reads the same on both engines. */
function toJson(row: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row)) as Record<string, unknown>
}

