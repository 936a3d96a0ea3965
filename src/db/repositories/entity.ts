/**
 * The operations shared by every table with a single-column id: get, insert with lifecycle columns, versioned
 * partial update, delete, atomic spend increments and compare-and-set window resets.
 */
import { and, eq, inArray, isNotNull, lte, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { EntityRepository, NewRow, Patch } from '../ports'
import { nowOf, withLifecycle, type RepositoryContext } from './context'
import { increment, plus } from './expressions'

type VersionedTable = PgTable & { version: PgColumn; updatedAt: PgColumn }
type SpendTable = VersionedTable & { spend: PgColumn }
type WindowTable = VersionedTable & { budgetResetAt: PgColumn }

// Drizzle's generic table types do not narrow for a table passed as a parameter; the casts below are confined
// to this file, and the contract suite exercises every method on both engines.
type Loose = never

/** get / insert / update / delete for rows found by `where(id)`, whatever the shape of the id. */
export function rowOperations<Row, Insert, Id>(ctx: RepositoryContext, table: VersionedTable, where: (id: Id) => SQL | undefined) {
  const { db } = ctx
  return {
    async get(id: Id): Promise<Row | null> {
      const rows = await db.select().from(table as Loose).where(where(id)).limit(1)
      return (rows[0] as Row | undefined) ?? null
    },
    async insert(row: NewRow<Insert>): Promise<Row> {
      const [created] = await db
        .insert(table)
        .values(withLifecycle(ctx, row as { createdAt?: Date }) as Loose)
        .returning()
      return created as Row
    },
    async update(id: Id, patch: Patch<Insert>): Promise<Row | null> {
      const [row] = await db
        .update(table)
        .set({ ...patch, version: increment(table.version), updatedAt: nowOf(ctx) } as Loose)
        .where(where(id))
        .returning()
      return (row as Row | undefined) ?? null
    },
    async delete(id: Id): Promise<Row | null> {
      const [row] = await db.delete(table).where(where(id)).returning()
      return (row as Row | undefined) ?? null
    },
  }
}

export function entityRepository<Row, Insert>(
  ctx: RepositoryContext,
  table: VersionedTable,
  id: PgColumn,
): EntityRepository<Row, Insert> {
  return {
    ...rowOperations<Row, Insert, string>(ctx, table, (value) => eq(id, value)),
    async getMany(values) {
      if (values.length === 0) return []
      return (await ctx.db.select().from(table as Loose).where(inArray(id, [...values]))) as Row[]
    },
  }
}

/** `spend = spend + amount` on the rows `where(id)` selects. */
export function addSpend<Id = string>(ctx: RepositoryContext, table: SpendTable, where: PgColumn | ((id: Id) => SQL | undefined)) {
  const select = typeof where === 'function' ? where : (value: Id) => eq(where, value)
  return async (value: Id, amount: number): Promise<void> => {
    await ctx.db
      .update(table)
      .set({ spend: plus(table.spend, amount) } as Loose)
      .where(select(value))
  }
}

export function budgetWindows<Row>(ctx: RepositoryContext, table: WindowTable & { spend?: PgColumn }, id: PgColumn) {
  return {
    async dueForReset(now: Date, limit: number): Promise<Row[]> {
      return (await ctx.db
        .select()
        .from(table as Loose)
        .where(and(isNotNull(table.budgetResetAt), lte(table.budgetResetAt, now)))
        .limit(limit)) as Row[]
    },
    async resetWindow(value: string, expected: Date, next: Date): Promise<boolean> {
      const changes: Record<string, unknown> = {
        budgetResetAt: next,
        version: increment(table.version),
        updatedAt: nowOf(ctx),
      }
      if (table.spend) changes.spend = 0
      const rows = await ctx.db
        .update(table)
        .set(changes as Loose)
        .where(and(eq(id, value), eq(table.budgetResetAt, expected)))
        .returning({ id })
      return rows.length > 0
    },
  }
}
