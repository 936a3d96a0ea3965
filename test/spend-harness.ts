/**
 * A spend engine over a fresh test database and its own spool folder, for engine-level tests (no HTTP).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Repositories } from '../src/db/ports'
import { ManualClock } from '../src/lib/clock'
import { createMemoryLogger } from '../src/lib/logger'
import { createMetrics } from '../src/metrics/registry'
import { createSpendEngine, type SpendEngine, type SpendEngineOptions } from '../src/spend/engine'
import { openTestStore, type TestStore } from './database'
import type { TestEngine } from './engines'

export type SpendHarness = {
  store: TestStore
  spend: SpendEngine
  folder: string
  clock: ManualClock
  log: ReturnType<typeof createMemoryLogger>
  metrics: ReturnType<typeof createMetrics>
  /** Another engine on the same database and folder (a restarted or second instance). */
  another(overrides?: Partial<SpendEngineOptions>): SpendEngine
  close(): Promise<void>
}

export async function openSpendHarness(
  engine: TestEngine,
  overrides: Partial<SpendEngineOptions> & { wrapRepos?: (repos: Repositories) => Repositories } = {},
): Promise<SpendHarness> {
  const clock = new ManualClock()
  const store = await openTestStore(engine, clock)
  const folder = overrides.spoolFolder ?? mkdtempSync(join(tmpdir(), 'tollgate-spool-'))
  const log = createMemoryLogger()
  const metrics = createMetrics()
  const { wrapRepos, ...rest } = overrides
  const build = (more: Partial<SpendEngineOptions> = {}) =>
    createSpendEngine({
      repos: wrapRepos ? wrapRepos(store.repos) : store.repos,
      clock,
      log,
      metrics,
      isConnectionError: store.database.dialect.isConnectionError,
      spoolFolder: folder,
      batchIntervalMs: 60_000,
      keepRawRows: true,
      spendLogRetention: null,
      proxyBudget: null,
      stopTimeoutMs: 2_000,
      ...rest,
      ...more,
    })
  const spend = build()
  const others: SpendEngine[] = []
  return {
    store,
    spend,
    folder,
    clock,
    log,
    metrics,
    another(more) {
      const other = build(more)
      others.push(other)
      return other
    },
    async close() {
      for (const other of others) await other.stop()
      await spend.stop()
      await store.close()
    },
  }
}
