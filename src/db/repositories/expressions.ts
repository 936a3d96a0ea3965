import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'

/** `column + 1`, for version bumps. */
export function increment(column: SQLWrapper): SQL {
  return sql`${column} + 1`
}

/** `column + amount`, for atomic spend increments (never read-modify-write). */
export function plus(column: SQLWrapper, amount: number): SQL {
  return sql`${column} + ${amount}`
}
