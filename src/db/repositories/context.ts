import type { Clock } from '../../lib/clock'
import type { Db, Dialect, Tables } from '../types'

/** What every repository is built from: the handle (a transaction's, inside one), tables, dialect edge, clock. */
export type RepositoryContext = { db: Db; t: Tables; dialect: Dialect; clock: Clock }

export function nowOf(ctx: RepositoryContext): Date {
  return new Date(ctx.clock.now())
}

/** A new row with its lifecycle columns: version 1, created/updated at now unless the caller gave them. */
export function withLifecycle<Row extends { createdAt?: unknown; updatedAt?: unknown }>(ctx: RepositoryContext, row: Row) {
  const now = nowOf(ctx)
  return { ...row, version: 1, createdAt: row.createdAt ?? now, updatedAt: row.updatedAt ?? now }
}
