/**
 * What differs on Postgres, under the same names as `../sqlite/dialect.ts`: raw statements, locks, error
 * classification and a few SQL expressions. Everything else is shared code in `../repositories`.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { ColumnKind, Db, RecordColumn } from '../types'

export const engine = 'pg' as const

/** Runs a raw statement and returns its rows. */
export async function queryRows<T = Record<string, unknown>>(db: Db, statement: SQL): Promise<T[]> {
  return (await db.execute(statement)) as unknown as T[]
}

/** Case-insensitive substring match. */
export function containsIgnoringCase(column: SQLWrapper, needle: string): SQL {
  return sql`${column} ilike ${`%${escapeLike(needle)}%`} escape '\\'`
}

/** The UTC day (`YYYY-MM-DD`) of a timestamp column. */
export function utcDayOf(column: SQLWrapper): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`
}

/**
 * Locks the rows `where` selects, in `orderBy` order, until the transaction ends. Writers that lock rows of
 * several tables take them in one global order this way, so two instances settling at once cannot deadlock.
 */
export async function lockRowsInOrder(db: Db, table: SQLWrapper, where: SQL, orderBy: readonly SQLWrapper[]): Promise<void> {
  await db.execute(sql`select 1 from ${table} where ${where} order by ${sql.join([...orderBy], sql`, `)} for update`)
}

/**
 * Runs SQL text with bound parameters on the driver directly (inside `db`'s transaction when it is one). For
 * the settlement path's large statements only: Drizzle's builder costs a few µs per bound value, more than the
 * database's own work for a batch of settlements. Values are always bound, never interpolated.
 */
export async function executeRaw(db: Db, text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
  const session = (db as unknown as { session: DriverSession }).session
  session.logger?.logQuery(text, [])
  return (await session.client.unsafe(text, params as unknown[])) as unknown as Record<string, unknown>[]
}

type DriverSession = { client: { unsafe(text: string, params: unknown[]): Promise<unknown> }; logger?: { logQuery(q: string, p: unknown[]): void } }

/** The placeholder of the `index`-th bound parameter (1-based). */
export function placeholder(index: number): string {
  return `$${index}`
}

const RECORD_TYPES: Record<ColumnKind, string> = {
  text: 'text',
  real: 'double precision',
  integer: 'bigint',
  timestamp: 'timestamptz',
  boolean: 'boolean',
  json: 'jsonb',
}

/** A FROM item expanding one JSON array parameter into rows `r` with the given typed columns. */
export function jsonRecords(parameter: string, columns: readonly RecordColumn[]): string {
  return `jsonb_to_recordset(${parameter}::jsonb) as r(${columns.map((c) => `"${c.name}" ${RECORD_TYPES[c.kind]}`).join(', ')})`
}

/** A value as `jsonRecords` reads it back exactly. */
export function jsonRecordValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null
  return kind === 'timestamp' ? (value as Date).toISOString() : value
}

export function isUniqueViolation(error: unknown): boolean {
  return errorCode(error) === '23505'
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
])

/** True when the database could not be reached (as opposed to a statement that failed). */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errorCode(e)
    if (code && CONNECTION_ERROR_CODES.has(code)) return true
  }
  return false
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
