import { openDatabase } from '../src/db/open'
import { createRepositories } from '../src/db/repositories'
import type { Database } from '../src/db/database'
import type { Repositories } from '../src/db/ports'
import { ManualClock } from '../src/lib/clock'
import type { TestDatabase, TestEngine } from './engines'

export type TestStore = { url: string; database: Database; repos: Repositories; clock: ManualClock; close(): Promise<void> }

/** A fresh database on `engine`, migrated, with nothing kept open (several instances connect to it themselves). */
export async function createMigratedDatabase(engine: TestEngine): Promise<TestDatabase> {
  const target = await engine.createDatabase()
  const migrator = await openDatabase(target.url, { poolSize: 1 })
  await migrator.migrate()
  await migrator.close()
  return target
}

/** A fresh, migrated database on `engine` with repositories over it and a manual clock. */
export async function openTestStore(engine: TestEngine, clock = new ManualClock()): Promise<TestStore> {
  const target = await engine.createDatabase()
  const database = await openDatabase(target.url, { poolSize: 4 })
  await database.migrate()
  return {
    url: target.url,
    database,
    repos: createRepositories(database, clock),
    clock,
    async close() {
      await database.close()
      await target.drop()
    },
  }
}
