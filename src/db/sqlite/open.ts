import { createClient } from '@libsql/client'
import { drizzle } from 'drizzle-orm/libsql'
import { readMigrationFolder } from '../migration-files' with { type: 'macro' }
import { MIGRATIONS_TABLE, type Database, type QueryStats } from '../database'
import { serializeClient } from '../serialized-client'
import type { Db, Tables } from '../types'
import * as dialect from './dialect'
import * as schema from './schema'

const MIGRATIONS = readMigrationFolder('sqlite')

export async function openLibsql(url: string): Promise<Database> {
  // One connection, one queue: see serialized-client.ts.
  const client = serializeClient(createClient({ url, concurrency: 1 }))
  await client.execute('pragma journal_mode = wal')
  await client.execute('pragma busy_timeout = 5000')
  await client.execute('pragma synchronous = normal')
  const stats: QueryStats = { queries: 0 }
  const db = drizzle(client, { logger: { logQuery: () => void stats.queries++ } }) as unknown as Db

  return {
    engine: 'sqlite',
    db,
    tables: schema as unknown as Tables,
    dialect,
    stats,
    location: url.startsWith('file:') ? url.slice('file:'.length) : url,
    async migrate() {
      const applied: string[] = []
      const tx = await client.transaction('write')
      try {
        await tx.execute(
          `create table if not exists ${MIGRATIONS_TABLE} (hash text primary key, tag text not null, applied_at integer not null)`,
        )
        const done = new Set((await tx.execute(`select hash from ${MIGRATIONS_TABLE}`)).rows.map((row) => String(row.hash)))
        for (const migration of MIGRATIONS) {
          if (done.has(migration.hash)) continue
          for (const statement of migration.statements) await tx.execute(statement)
          await tx.execute({
            sql: `insert into ${MIGRATIONS_TABLE} (hash, tag, applied_at) values (?, ?, ?)`,
            args: [migration.hash, migration.tag, Date.now()],
          })
          applied.push(migration.tag)
        }
        await tx.commit()
      } catch (error) {
        await tx.rollback()
        throw error
      }
      return applied
    },
    listen: null,
    notify: null,
    async close() {
      client.close()
    },
  }
}
