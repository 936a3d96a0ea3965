import { and, asc, count, eq, isNull } from 'drizzle-orm'
import type {
  BudgetInsert,
  BudgetRepository,
  BudgetRow,
  EndUserInsert,
  EndUserRepository,
  EndUserRow,
  TagInsert,
  TagRepository,
  TagRow,
} from '../ports'
import { nowOf, type RepositoryContext } from './context'
import { addSpend, addSpendInOrder, budgetWindows, entityRepository } from './entity'
import { increment, plus } from './expressions'

export function budgetRepository(ctx: RepositoryContext): BudgetRepository {
  const { db, t } = ctx
  const b = t.budgets
  return {
    ...entityRepository<BudgetRow, BudgetInsert>(ctx, b, b.budgetId),
    ...budgetWindows<BudgetRow>(ctx, b, b.budgetId),
    list: () => db.select().from(b).orderBy(asc(b.createdAt), asc(b.budgetId)),
    async countReferences(budgetId) {
      const counts = await Promise.all([
        db.select({ n: count() }).from(t.keys).where(eq(t.keys.budgetId, budgetId)),
        db.select({ n: count() }).from(t.teamMemberships).where(eq(t.teamMemberships.budgetId, budgetId)),
        db.select({ n: count() }).from(t.organizations).where(eq(t.organizations.budgetId, budgetId)),
        db.select({ n: count() }).from(t.organizationMemberships).where(eq(t.organizationMemberships.budgetId, budgetId)),
        db.select({ n: count() }).from(t.endUsers).where(eq(t.endUsers.budgetId, budgetId)),
        db.select({ n: count() }).from(t.tags).where(eq(t.tags.budgetId, budgetId)),
        db.select({ n: count() }).from(t.teams).where(eq(t.teams.teamMemberBudgetId, budgetId)),
      ])
      return counts.reduce((sum, [row]) => sum + row.n, 0)
    },
    async resetLinkedSpend(budgetId) {
      const updatedAt = nowOf(ctx)
      const none = {}
      const linked = [
        { table: t.organizations, where: eq(t.organizations.budgetId, budgetId), also: none },
        { table: t.endUsers, where: eq(t.endUsers.budgetId, budgetId), also: none },
        { table: t.tags, where: eq(t.tags.budgetId, budgetId), also: none },
        { table: t.organizationMemberships, where: eq(t.organizationMemberships.budgetId, budgetId), also: none },
        { table: t.teamMemberships, where: eq(t.teamMemberships.budgetId, budgetId), also: none },
        { table: t.keys, where: and(eq(t.keys.budgetId, budgetId), isNull(t.keys.budgetDuration)), also: { modelSpend: {} } },
      ]
      let reset = 0
      for (const { table, where, also } of linked) {
        const rows = await db.update(table).set({ ...also, spend: 0, version: increment(table.version), updatedAt }).where(where).returning({ v: table.version })
        reset += rows.length
      }
      return reset
    },
  }
}

/** Rows per INSERT statement, well under both engines' bound-parameter limits. */
const INSERT_CHUNK = 400

export function endUserRepository(ctx: RepositoryContext): EndUserRepository {
  const { db, t } = ctx
  const e = t.endUsers
  return {
    ...entityRepository<EndUserRow, EndUserInsert>(ctx, e, e.userId),
    addSpend: addSpend(ctx, e, e.userId),
    addSpendInOrder: addSpendInOrder<string>(ctx, e, [e.userId], (id) => [id]),
    list: (page) => {
      const query = db.select().from(e).orderBy(asc(e.createdAt), asc(e.userId))
      return page ? query.limit(page.limit).offset(page.offset) : query
    },
    async upsertSpend(id, amount, now) {
      await db
        .insert(e)
        .values({ userId: id, spend: amount, metadata: {}, version: 1, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: e.userId, set: { spend: plus(e.spend, amount) } })
    },
    async resetSpendWithoutBudget() {
      const rows = await db
        .update(e)
        .set({ spend: 0, version: increment(e.version), updatedAt: nowOf(ctx) })
        .where(isNull(e.budgetId))
        .returning({ v: e.version })
      return rows.length
    },
    async ensureExist(ids, now) {
      const sorted = [...new Set(ids)].sort()
      for (let i = 0; i < sorted.length; i += INSERT_CHUNK) {
        await db
          .insert(e)
          .values(sorted.slice(i, i + INSERT_CHUNK).map((userId) => ({ userId, metadata: {}, version: 1, createdAt: now, updatedAt: now })))
          .onConflictDoNothing({ target: e.userId })
      }
    },
  }
}

export function tagRepository(ctx: RepositoryContext): TagRepository {
  const { db, t } = ctx
  const g = t.tags
  return {
    ...entityRepository<TagRow, TagInsert>(ctx, g, g.tagName),
    addSpend: addSpend(ctx, g, g.tagName),
    addSpendInOrder: addSpendInOrder<string>(ctx, g, [g.tagName], (id) => [id]),
    list: () => db.select().from(g).orderBy(asc(g.tagName)),
  }
}

