/**
 * A gateway process for the spend durability tests, spawned with Bun.spawn: it builds the real AppContext
 * (spend engine, lifecycle) on the given database and spool folder, starts it as main.ts does, and records
 * settlements in a loop, printing `recorded <request_id>` after each `record()` has returned. SIGTERM stops it the
 * way main.ts does (lifecycle.stop, then exit); the tests also kill it with SIGKILL.
 *
 *   bun test/spend-child.ts <database_url> <spool_folder> <proxy_batch_write_at seconds> <team_id>
 */
import { createAppContext } from '../src/app-context'
import { settingsFromObject } from '../src/config/load'
import { openDatabase } from '../src/db/open'
import { systemClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/logger'
import { MASTER_KEY } from './gateway'
import { spendRow } from './spend-rows'

const [url, spoolFolder, batchSeconds, teamId] = process.argv.slice(2)
const settings = settingsFromObject({
  general_settings: { master_key: MASTER_KEY, spend_spool_dir: spoolFolder, proxy_batch_write_at: Number(batchSeconds) },
})
const database = await openDatabase(url, { poolSize: 4 })
const context = await createAppContext({ settings, database, clock: systemClock, log: silentLogger })
await context.lifecycle.start()

let stopping = false
process.once('SIGTERM', async () => {
  stopping = true
  await context.lifecycle.stop()
  await database.close()
  process.exit(0)
})

for (let i = 0; !stopping; i++) {
  const row = spendRow({ requestId: `${process.pid}-${i}`, teamId, spend: ((i % 97) + 1) * 1.1e-7, startTime: new Date() })
  context.spend.record(row)
  process.stdout.write(`recorded ${row.requestId}\n`)
  // Let the flusher and the signal handler run between requests, as a serving gateway would.
  if (i % 10 === 9) await Bun.sleep(1)
}
