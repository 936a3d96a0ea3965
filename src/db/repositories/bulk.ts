/**
 * The settlement path's batch statements, kept off Drizzle's query builder: it spends a few µs on every bound
 * value, which for a batch of 500 settlements of 24 columns cost more than the database's own work.
 *
 * - `insertRows`: many rows in one statement whose values travel as ONE JSON parameter, expanded by the
 *   database (`jsonb_to_recordset` on Postgres, `json_each` on libSQL). Column names and types come from the
 *   Drizzle table objects, so the statement follows the schema.
 * - `foldSpend`: `spend = spend + a + b + …` per row, as SQL text with the amounts bound.
 *
 * Values are always bound parameters; only identifiers from our own schema are written into the SQL text.
 */
import { getTableColumns, getTableName } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { ColumnKind, RecordColumn } from '../types'
import type { RepositoryContext } from './context'

const KIND_OF: Record<string, ColumnKind> = {
  PgText: 'text',
  SQLiteText: 'text',
  PgDoublePrecision: 'real',
  SQLiteReal: 'real',
  PgBigInt53: 'integer',
  PgInteger: 'integer',
  SQLiteInteger: 'integer',
  PgTimestamp: 'timestamp',
  SQLiteTimestamp: 'timestamp',
  PgBoolean: 'boolean',
  SQLiteBoolean: 'boolean',
  PgJsonb: 'json',
  SQLiteTextJson: 'json',
}

type BulkColumn = RecordColumn & { readonly key: string }
const columnsByTable = new WeakMap<object, BulkColumn[]>()

function columnsOf(table: PgTable): BulkColumn[] {
  let columns = columnsByTable.get(table)
  if (!columns) {
    columns = Object.entries(getTableColumns(table)).map(([key, column]) => {
      const kind = KIND_OF[(column as { columnType: string }).columnType]
      if (!kind) throw new Error(`bulk statements do not handle column type ${(column as { columnType: string }).columnType}`)
      return { key, name: column.name, kind }
    })
    columnsByTable.set(table, columns)
  }
  return columns
}

const quote = (name: string) => `"${name}"`

/**
 * Rows per statement. On libSQL a statement runs on the event loop, so this also bounds how long a settling
 * batch keeps requests waiting (~100 rows ≈ a few ms); between statements the proxy serves requests.
 */
const ROWS_PER_STATEMENT = 100

/**
 * `insert into table (…) select … from <the rows> where true <tail>` per chunk of rows; `tail` is an
 * `on conflict …` clause and/or `returning …`. Every row must carry every column of the table.
 */
export async function insertRows(ctx: RepositoryContext, table: PgTable, rows: readonly object[], tail: string): Promise<Record<string, unknown>[]> {
  const columns = columnsOf(table)
  const names = columns.map((column) => quote(column.name)).join(', ')
  const selected = columns.map((column) => `r.${quote(column.name)}`).join(', ')
  const text = `insert into ${quote(getTableName(table))} (${names}) select ${selected} from ${ctx.dialect.jsonRecords(ctx.dialect.placeholder(1), columns)} where true ${tail}`
  const out: Record<string, unknown>[] = []
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const records = rows.slice(i, i + ROWS_PER_STATEMENT).map((row) => {
      const record: Record<string, unknown> = {}
      for (const column of columns) record[column.name] = ctx.dialect.jsonRecordValue(column.kind, (row as Record<string, unknown>)[column.key])
      return record
    })
    out.push(...(await ctx.dialect.executeRaw(ctx.db, text, [JSON.stringify(records)])))
  }
  return out
}

/**
 * One `UPDATE … SET spend = CASE WHEN <id> THEN (spend + a + b …) … ELSE spend END WHERE <ids>` for these rows.
 * `+` is left-associative, so each row's amounts are added one after another, as separate increments would.
 */
export async function foldSpend(
  ctx: RepositoryContext,
  table: PgTable & { spend: PgColumn },
  idColumns: readonly PgColumn[],
  rows: readonly { ids: readonly string[]; amounts: readonly number[] }[],
): Promise<void> {
  const params: unknown[] = []
  const bind = (value: unknown) => {
    params.push(value)
    return ctx.dialect.placeholder(params.length)
  }
  const spend = quote(table.spend.name)
  const matches = (ids: readonly string[]) => `(${idColumns.map((column, i) => `${quote(column.name)} = ${bind(ids[i])}`).join(' and ')})`
  const cases = rows.map((row) => `when ${matches(row.ids)} then (${[spend, ...row.amounts.map(bind)].join(' + ')})`).join(' ')
  const where = rows.map((row) => matches(row.ids)).join(' or ')
  await ctx.dialect.executeRaw(ctx.db, `update ${quote(getTableName(table))} set ${spend} = case ${cases} else ${spend} end where ${where}`, params)
}
