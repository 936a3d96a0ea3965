import postgres from 'postgres'
import { drizzle } from 'drizzle-orm/postgres-js'
import { readMigrationFolder } from '../migration-files' with { type: 'macro' }
import { MIGRATIONS_TABLE, type Database, type QueryStats } from '../database'
import type { Db, Tables } from '../types'
import * as dialect from './dialect'
import * as schema from './schema'

const MIGRATIONS = readMigrationFolder('pg')
/** Any constant works; it only has to be the same in every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_302_411_977

export type PostgresOptions = { poolSize?: number; connectTimeoutSeconds?: number }

export function openPostgres(url: string, options: PostgresOptions = {}): Database {
  const client = postgres(url, {
    max: options.poolSize ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: 60,
    onnotice: () => {},
  })
  const stats: QueryStats = { queries: 0 }
  const db = drizzle(client, { logger: { logQuery: () => void stats.queries++ } }) as unknown as Db

  return {
    engine: 'pg',
    db,
    tables: schema as Tables,
    dialect,
    stats,
    location: describeUrl(url),
    async migrate() {
      const applied: string[] = []
      await client.begin(async (tx) => {
        // Serializes concurrent starts: the second process waits here, then finds everything applied.
        await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
        await tx.unsafe(
          `create table if not exists ${MIGRATIONS_TABLE} (hash text primary key, tag text not null, applied_at bigint not null)`,
        )
        const done = new Set((await tx.unsafe(`select hash from ${MIGRATIONS_TABLE}`)).map((row) => row.hash as string))
        for (const migration of MIGRATIONS) {
          if (done.has(migration.hash)) continue
          for (const statement of migration.statements) await tx.unsafe(statement)
          await tx.unsafe(`insert into ${MIGRATIONS_TABLE} (hash, tag, applied_at) values ($1, $2, $3)`, [
            migration.hash,
            migration.tag,
            Date.now(),
          ])
          applied.push(migration.tag)
        }
      })
      return applied
    },
    async listen(channel, onMessage) {
      const subscription = await client.listen(channel, onMessage)
      return () => subscription.unlisten()
    },
    async notify(channel, payload) {
      await client.notify(channel, payload)
    },
    async close() {
      await client.end({ timeout: 5 })
    },
  }
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `postgres://${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`
  } catch {
    return 'postgres'
  }
}
