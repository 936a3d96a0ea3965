/**
 * The one database handle type shared code is written against.
 *
 * Both engines are reached through Drizzle's query builder with tables whose names, columns and row types are
 * identical (`pg/schema.ts`, `sqlite/schema.ts`). Shared repository code is typed against the Postgres flavour;
 * at run time the libSQL handle and tables are passed instead, and Drizzle builds each dialect's SQL from the
 * table objects it is given. This holds only for the builder features both dialects have (select, insert,
 * update, delete, returning, onConflict*, transactions, the `sql` template); raw statements and anything else
 * engine-specific go through `pg/dialect.ts` / `sqlite/dialect.ts`. The repository contract suite runs every
 * repository method on both engines, which is what keeps this honest.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type * as pgSchema from './pg/schema'
import type * as pgDialect from './pg/dialect'

export type Tables = typeof pgSchema
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>
export type Dialect = Omit<typeof pgDialect, 'engine'> & { engine: 'pg' | 'sqlite' }
export type Engine = Dialect['engine']

/** How a column's values travel in a JSON batch (see `jsonRecords` in the dialects). */
export type ColumnKind = 'text' | 'real' | 'integer' | 'timestamp' | 'boolean' | 'json'
export type RecordColumn = { readonly name: string; readonly kind: ColumnKind }
