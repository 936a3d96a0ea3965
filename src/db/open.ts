import { resolve } from 'node:path'
import type { Database } from './database'
import { openPostgres, type PostgresOptions } from './pg/open'
import { openLibsql } from './sqlite/open'

/** The embedded default: `tollgate.db` in the working folder. */
export function defaultDatabaseUrl(cwd: string = process.cwd()): string {
  return `file:${resolve(cwd, 'tollgate.db')}`
}

/** `postgres://` / `postgresql://` → Postgres; `file:` / `libsql:` → libSQL; null → the embedded default. */
export async function openDatabase(url: string | null, options: PostgresOptions = {}): Promise<Database> {
  const target = url ?? defaultDatabaseUrl()
  if (/^postgres(ql)?:\/\//.test(target)) return openPostgres(target, options)
  if (/^(file|libsql):/.test(target)) return openLibsql(target)
  throw new Error('database url must start with postgres://, postgresql://, file: or libsql:')
}
