import { and, count, desc, eq, gte, inArray, lt, lte, or, sql } from 'drizzle-orm'
import { newOrderedId } from '../../lib/ids'
import type { AuditLogRepository, JobLeaseRepository, SettingsRepository } from '../ports'
import { nowOf, type RepositoryContext } from './context'

export function auditLogRepository(ctx: RepositoryContext): AuditLogRepository {
  const { db, t } = ctx
  const a = t.auditLog
  return {
    async record(entry) {
      const [row] = await db
        .insert(a)
        .values({ id: newOrderedId(), ...entry, changedAt: entry.changedAt ?? nowOf(ctx) })
        .returning()
      return row
    },
    async list(filter, page) {
      const conditions = []
      if (filter.tableName !== undefined) conditions.push(eq(a.tableName, filter.tableName))
      if (filter.objectId !== undefined) conditions.push(eq(a.objectId, filter.objectId))
      if (filter.changedBy !== undefined) conditions.push(eq(a.changedBy, filter.changedBy))
      if (filter.action !== undefined) conditions.push(eq(a.action, filter.action))
      if (filter.start !== undefined) conditions.push(gte(a.changedAt, filter.start))
      if (filter.end !== undefined) conditions.push(lt(a.changedAt, filter.end))
      if (filter.organizationIds !== undefined) {
        conditions.push(filter.organizationIds.length ? inArray(a.organizationId, [...filter.organizationIds]) : sql`1 = 0`)
      }
      const where = conditions.length ? and(...conditions) : undefined
      const rows = await db
        .select()
        .from(a)
        .where(where)
        .orderBy(desc(a.changedAt), desc(a.id))
        .limit(page.limit)
        .offset(page.offset)
      const [{ total }] = await db.select({ total: count() }).from(a).where(where)
      return { rows, total }
    },
  }
}

export function settingsRepository(ctx: RepositoryContext): SettingsRepository {
  const { db, t } = ctx
  const s = t.settings
  return {
    async get(name) {
      const [row] = await db.select().from(s).where(eq(s.name, name)).limit(1)
      return row?.value ?? null
    },
    async put(name, value) {
      await db.insert(s).values({ name, value }).onConflictDoUpdate({ target: s.name, set: { value } })
    },
    async putIfAbsent(name, value) {
      const rows = await db.insert(s).values({ name, value }).onConflictDoNothing({ target: s.name }).returning({ name: s.name })
      return rows.length > 0
    },
  }
}

export function jobLeaseRepository(ctx: RepositoryContext): JobLeaseRepository {
  const { db, t } = ctx
  const l = t.jobLeases
  return {
    async acquire(name, holder, now, ttlMs) {
      const expiresAt = new Date(now.getTime() + ttlMs)
      const rows = await db
        .insert(l)
        .values({ name, holder, expiresAt })
        .onConflictDoUpdate({
          target: l.name,
          set: { holder, expiresAt },
          setWhere: or(eq(l.holder, holder), lte(l.expiresAt, now)),
        })
        .returning({ holder: l.holder })
      return rows.length > 0 && rows[0].holder === holder
    },
    async release(name, holder) {
      await db.delete(l).where(and(eq(l.name, name), eq(l.holder, holder)))
    },
  }
}
