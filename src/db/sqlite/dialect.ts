/**
 * What differs on libSQL, under the same names as `../pg/dialect.ts`.
 */
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import type { Db } from '../types'

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
