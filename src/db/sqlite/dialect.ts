/**
 * What differs on libSQL, under the same names as `../pg/dialect.ts`.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import type { InArgs } from '@libsql/client'
import type { ColumnKind, Db, RecordColumn } from '../types'

export const engine = 'sqlite' as const

/** Runs a raw statement and returns its rows. */
export async function queryRows<T = Record<string, unknown>>(db: Db, statement: SQL): Promise<T[]> {
  return (await (db as unknown as LibSQLDatabase).all(statement)) as T[]
}

/** Case-insensitive substring match (SQLite's LIKE folds ASCII case; lower() covers the rest it can). */
export function containsIgnoringCase(column: SQLWrapper, needle: string): SQL {
  return sql`lower(${column}) like ${`%${escapeLike(needle.toLowerCase())}%`} escape '\\'`
}

/** The UTC day (`YYYY-MM-DD`) of a timestamp column stored as epoch milliseconds. */
export function utcDayOf(column: SQLWrapper): SQL<string> {
  return sql<string>`strftime('%Y-%m-%d', ${column} / 1000, 'unixepoch')`
}

/** SQLite has one writer per database: a write transaction already excludes every other, so there is nothing to lock. */
export async function lockRowsInOrder(_db: Db, _table: SQLWrapper, _where: SQL, _orderBy: readonly SQLWrapper[]): Promise<void> {}

/**
 * Runs SQL text with bound parameters on the driver directly (inside `db`'s transaction when it is one). For
 * the settlement path's large statements only: Drizzle's builder costs a few µs per bound value, more than the
 * database's own work for a batch of settlements. Values are always bound, never interpolated.
 */
export async function executeRaw(db: Db, text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
  const session = (db as unknown as { session: DriverSession }).session
  session.logger?.logQuery(text, [])
  const target = session.tx ?? session.client
  return (await target.execute({ sql: text, args: params as InArgs })).rows as unknown as Record<string, unknown>[]
}

type Executor = { execute(statement: { sql: string; args: InArgs }): Promise<{ rows: unknown[] }> }
type DriverSession = { client: Executor; tx?: Executor; logger?: { logQuery(q: string, p: unknown[]): void } }

/** The placeholder of the `index`-th bound parameter. */
export function placeholder(_index: number): string {
  return '?'
}

/**
 * A FROM item expanding one JSON array parameter into rows `r` with the given columns. Reals travel as JSON
 * strings and are cast: SQLite's JSON parser rounds some doubles (0.30000000000000004 reads back as 0.3), its
 * CAST does not.
 */
export function jsonRecords(parameter: string, columns: readonly RecordColumn[]): string {
  const read = (c: RecordColumn) => (c.kind === 'real' ? `cast(value ->> '$.${c.name}' as real)` : `value ->> '$.${c.name}'`)
  return `(select ${columns.map((c) => `${read(c)} as "${c.name}"`).join(', ')} from json_each(${parameter})) as r`
}

/** A value as `jsonRecords` reads it back exactly. */
export function jsonRecordValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (kind) {
    case 'real':
      return String(value)
    case 'timestamp':
      return (value as Date).getTime()
    case 'boolean':
      return value ? 1 : 0
    case 'json':
      return JSON.stringify(value)
    default:
      return value
  }
}

export function isUniqueViolation(error: unknown): boolean {
  const text = describe(error)
  return text.includes('UNIQUE constraint failed') || text.includes('SQLITE_CONSTRAINT_PRIMARYKEY')
}

/** A local file is never "unreachable"; a busy or locked database is reported as such. */
export function isConnectionError(error: unknown): boolean {
  const text = describe(error)
  return text.includes('SQLITE_BUSY') || text.includes('SQLITE_CANTOPEN') || text.includes('CLIENT_CLOSED')
}

function describe(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String((e as { message?: unknown }).message ?? ''), String((e as { code?: unknown }).code ?? ''))
  }
  return parts.join(' ')
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
