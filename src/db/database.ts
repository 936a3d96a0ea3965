import type { Db, Dialect, Engine, Tables } from './types'

/** Statements sent to the database by this handle; tests read it to prove a path makes no database round trip. */
export type QueryStats = { queries: number }

export type Database = {
  readonly engine: Engine
  readonly db: Db
  readonly tables: Tables
  readonly dialect: Dialect
  readonly stats: QueryStats
  /** Where the data lives, without credentials (for logs and readiness). */
  readonly location: string
  /** Applies the embedded migrations that are not applied yet; returns their tags. Safe to run concurrently. */
  migrate(): Promise<string[]>
  /** Postgres LISTEN; null on libSQL, which serves one instance. */
  listen: ((channel: string, onMessage: (payload: string) => void) => Promise<() => Promise<void>>) | null
  /** Postgres NOTIFY; null on libSQL. */
  notify: ((channel: string, payload: string) => Promise<void>) | null
  close(): Promise<void>
}

export const MIGRATIONS_TABLE = 'tollgate_migrations'
