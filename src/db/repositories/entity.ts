/**
 * The operations shared by every table with a single-column id: get, insert with lifecycle columns, versioned
 * partial update, delete, atomic spend increments and compare-and-set window resets.
 */
import { and, eq, inArray, isNotNull, lte, or, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { EntityRepository, NewRow, OrderedAmounts, Patch } from '../ports'
import { nowOf, withLifecycle, type RepositoryContext } from './context'
import { foldSpend } from './bulk'
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

/** Terms per statement of a spend fold: far below both engines' parameter and expression-depth limits. */
const FOLD_TERMS_PER_STATEMENT = 200

function compareIds(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}

/**
 * `addSpendInOrder` for a table whose id is one or more text columns: rows are locked in id order, then each
 * chunk is one fold statement (bulk.ts). An id with more amounts than fit one statement continues in the next
 * round, so the fold order is kept.
 */
export function addSpendInOrder<Id>(
  ctx: RepositoryContext,
  table: SpendTable,
  idColumns: readonly PgColumn[],
  idValues: (id: Id) => readonly string[],
) {
  const matches = (id: Id) => {
    const values = idValues(id)
    return and(...idColumns.map((column, i) => eq(column, values[i])))!
  }
  return async (increments: readonly OrderedAmounts<Id>[]): Promise<void> => {
    const sorted = increments.filter((increment) => increment.amounts.length > 0).sort((a, b) => compareIds(idValues(a.id), idValues(b.id)))
    if (sorted.length === 0) return
    await lockInChunks(ctx, table, idColumns, sorted.map((increment) => matches(increment.id)))
    for (let round = 0; ; round++) {
      const slices = sorted
        .map((increment) => ({ ids: idValues(increment.id), amounts: increment.amounts.slice(round * FOLD_TERMS_PER_STATEMENT, (round + 1) * FOLD_TERMS_PER_STATEMENT) }))
        .filter((slice) => slice.amounts.length > 0)
      if (slices.length === 0) return
      for (const chunk of chunksByTerms(slices)) await foldSpend(ctx, table, idColumns, chunk)
    }
  }
}

/** Locks rows (Postgres; a no-op on libSQL) in id order, a bounded number of ids per statement. */
export async function lockInChunks(ctx: RepositoryContext, table: PgTable, idColumns: readonly PgColumn[], matches: readonly SQL[]) {
  for (let i = 0; i < matches.length; i += FOLD_TERMS_PER_STATEMENT) {
    await ctx.dialect.lockRowsInOrder(ctx.db, table, or(...matches.slice(i, i + FOLD_TERMS_PER_STATEMENT))!, idColumns)
  }
}

function chunksByTerms<T extends { amounts: readonly number[] }>(slices: readonly T[]): T[][] {
  const chunks: T[][] = []
  let current: T[] = []
  let terms = 0
  for (const slice of slices) {
    if (current.length > 0 && terms + slice.amounts.length > FOLD_TERMS_PER_STATEMENT) {
      chunks.push(current)
      current = []
      terms = 0
    }
    current.push(slice)
    terms += slice.amounts.length
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** `spend = 0` (and `also`) on every row; returns how many. */
export function zeroAllSpend(ctx: RepositoryContext, table: SpendTable, also: Record<string, unknown> = {}) {
  return async (): Promise<number> => {
    const rows = await ctx.db
      .update(table)
      .set({ spend: 0, ...also } as Loose)
      .returning({ spend: table.spend })
    return rows.length
  }
}

/** `also`: more columns a new window clears (keys: `model_spend`). */
export function budgetWindows<Row>(ctx: RepositoryContext, table: WindowTable & { spend?: PgColumn }, id: PgColumn, also: Record<string, unknown> = {}) {
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
        ...also,
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
