/**
 * The spend engine: everything downstream of a finished request's usage record.
 *
 * The one entry point is `record(row)`: the proxy hands it one spend log row per finished request (spend
 * already computed with `costOf`); it is appended to this instance's spool and `record` returns once the row
 * survives the process being killed. A flusher writes the spool to the database every
 * `general_settings.proxy_batch_write_at` seconds (default 1) or as soon as 500 rows wait, each batch in one
 * transaction (`settle.ts`: exactly once by request id), and trims the spool after the commit. While the
 * database is unreachable it retries with backoff and keeps everything; nothing is ever dropped. A graceful stop
 * flushes what it can (and leaves the rest in the spool); the next start replays spools left by processes that
 * are gone.
 *
 * @example
 *   context.spend.record(row)                        // on every finished request
 *   context.spend.pendingSpend('team', teamId)       // add to the stored spend on management reads
 */
import { randomBytes } from 'node:crypto'
import type { Repositories, SpendLogRow } from '../db/ports'
import type { Clock } from '../lib/clock'
import { newId } from '../lib/ids'
import type { Logger } from '../lib/logger'
import type { Metrics } from '../metrics/registry'
import { pendingChargesOf, type EntityKind } from './increments'
import { PendingSpend } from './pending'
import { pruneSpend, RETENTION_INTERVAL_MS, RETENTION_LEASE, RETENTION_LEASE_TTL_MS, type RetentionResult } from './retention'
import { settleBatch, type ProxyBudget } from './settle'
import { adoptOrphans, thisHost, SpoolFile, type FsyncPolicy, type SpoolBatch, type SpoolEntry } from './spool'

export type SpendBacklog = { events: number; oldest_seconds: number }
export type FlushResult = { settled: number; remaining: number; error?: string }

export type SpendEngine = {
  /**
   * Records one finished request. Synchronous: appends the row to the spool and returns once it survives a
   * kill -9 of this process (see `spool.ts` for the fsync policy). Throws only if the local disk write fails.
   */
  record(row: SpendLogRow): void
  /**
   * This instance's unflushed spend for an entity (`membershipKey(team, user)` for a membership,
   * `keyModelKey(token, model)` for a key's spend on one model).
   */
  pendingSpend(kind: EntityKind, id: string): number
  /**
   * Odd while a batch is being written (from before its transaction until its rows have left the pending sums),
   * and changed by every batch: a reader that sees the same even value before and after reading stored spend
   * knows that `stored + pendingSpend(…)` counted every settlement exactly once.
   */
  settlingGeneration(): number
  /** Unflushed settlements and the age of the oldest (readiness, metrics). */
  backlog(): SpendBacklog
  /** Writes everything pending now (ignores backoff); resolves with what is left if the database failed. */
  flush(): Promise<FlushResult>
  /** Replays orphaned spools, starts the flusher, heartbeat and retention timers. */
  start(): Promise<void>
  /** Stops the timers and flushes (up to `stopTimeoutMs`); whatever is left stays in the spool. */
  stop(): Promise<void>
  /**
   * Called after each committed batch with the rows it applied (not those settled before): for work that follows
   * a settlement (budget gauges, soft-budget alerts). Errors are logged, never retried.
   */
  onSettled(listener: (rows: readonly SpendLogRow[]) => void | Promise<void>): void
  /** The leader-only daily pruning; null when another instance holds the lease or it ran within a day. */
  runRetention(): Promise<RetentionResult | null>
  readonly instance: string
}

export type SpendEngineOptions = {
  repos: Repositories
  clock: Clock
  log: Logger
  metrics: Metrics
  isConnectionError(error: unknown): boolean
  spoolFolder: string
  batchIntervalMs: number
  /** Rows per transaction, and the backlog that triggers a flush before the interval. */
  batchSize?: number
  keepRawRows: boolean
  spendLogRetention: string | null
  proxyBudget: ProxyBudget | null
  fsync?: FsyncPolicy
  stopTimeoutMs?: number
}

const MIN_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 30_000
/** A single row the database refuses (not an outage) this many times in a row is set aside, never dropped. */
const MAX_ROW_ATTEMPTS = 5
const HEARTBEAT_MS = 10_000
const RETENTION_CHECK_MS = 3_600_000

export function createSpendEngine(options: SpendEngineOptions): SpendEngine {
  const { repos, clock, log, metrics } = options
  const batchSize = options.batchSize ?? 500
  const chargeOptions = { proxyBudget: options.proxyBudget !== null }
  const instance = `${thisHost()}-${process.pid}-${randomBytes(3).toString('hex')}`
  let pending = new PendingSpend()

  let spool: SpoolFile | null = null
  let started = false
  let stopping = false
  let draining: Promise<FlushResult> | null = null
  let retryAt = 0
  let backoffMs = 0
  let outageSince: number | null = null
  /** Rows left to settle one at a time after a batch the database refused for a reason other than an outage. */
  let isolate = 0
  let rowAttempts = 0
  let lastRetention = Number.NEGATIVE_INFINITY
  let generation = 0
  const timers: Array<ReturnType<typeof setInterval>> = []
  const listeners: Array<(rows: readonly SpendLogRow[]) => void | Promise<void>> = []

  // Files are created on the first record (or adoption), never just by starting. After a stop that left rows
  // behind, the next file gets a new name: the old one is adopted like any orphan.
  const spoolName = () => `${instance}-${randomBytes(2).toString('hex')}`
  let nextSpoolName = spoolName()
  function openSpool(): SpoolFile {
    spool ??= SpoolFile.create(options.spoolFolder, nextSpoolName, options.fsync)
    return spool
  }

  function updateGauges(): void {
    const backlog = currentBacklog()
    metrics.spoolEvents.set(backlog.events)
    metrics.spoolOldestSeconds.set(backlog.oldest_seconds)
  }

  function currentBacklog(): SpendBacklog {
    const oldest = pending.oldestRecordedAt
    return { events: pending.count, oldest_seconds: oldest === undefined ? 0 : Math.max(0, (clock.now() - oldest) / 1000) }
  }

  function accept(entry: SpoolEntry): void {
    openSpool().append(entry)
    pending.add(entry.recordedAt, pendingChargesOf(entry.row, chargeOptions))
  }

  function release(entries: readonly SpoolEntry[]): void {
    pending.settle(
      entries.length,
      entries.flatMap((entry) => pendingChargesOf(entry.row, chargeOptions)),
    )
  }

  function adopt(): void {
    const adopted = adoptOrphans(options.spoolFolder, spool?.instance ?? nextSpoolName, ({ instance: from, entries, invalid }) => {
      const own = openSpool()
      for (const entry of entries) accept(entry)
      for (const line of invalid) own.reject(line)
      own.sync()
      if (entries.length || invalid.length) {
        log.warn('replaying the spend spool of a stopped instance', { from, rows: entries.length, unreadable_lines: invalid.length })
      }
    })
    if (adopted > 0) updateGauges()
  }

  function rejectRow(batch: SpoolBatch, reason: string): void {
    const own = openSpool()
    own.reject(batch.lines[0])
    own.commit(batch.bytes)
    release(batch.entries)
    log.error('a settlement the database refuses every time was set aside in the spool folder', {
      request_id: batch.entries[0].row.requestId,
      file: own.rejectedPath,
      error: reason,
    })
  }

  /** Settles one batch from the head of the spool (the generation is odd meanwhile: see `settlingGeneration`). */
  async function settleNext(): Promise<'empty' | 'settled' | 'failed'> {
    generation++
    try {
      return await settleNextBatch()
    } finally {
      generation++
    }
  }

  async function settleNextBatch(): Promise<'empty' | 'settled' | 'failed'> {
    if (!spool) return 'empty'
    const own = spool
    const batch = own.readBatch(isolate > 0 ? 1 : batchSize)
    if (batch.bytes === 0) return 'empty'
    if (batch.invalid !== null) {
      own.reject(batch.invalid)
      own.commit(batch.bytes)
      log.error('an unreadable line in the spend spool was set aside', { file: own.rejectedPath })
      return 'settled'
    }
    // On the disk before the database has it: a machine crash then loses nothing the database confirmed.
    try {
      await own.syncToDisk()
    } catch (error) {
      if (spool !== own) return 'failed' // closed by a stop meanwhile; the file is replayed later
      throw error
    }
    let applied: string[]
    try {
      applied = await settleBatch(
        repos,
        batch.entries.map((entry) => entry.row),
        { keepRawRows: options.keepRawRows, proxyBudget: options.proxyBudget, now: new Date(clock.now()) },
      )
    } catch (error) {
      if (spool !== own) return 'failed'
      return onFailure(error, batch)
    }
    // Stopped (past its deadline) while this batch was in flight: the file is closed and will be replayed.
    if (spool !== own) return 'failed'
    own.commit(batch.bytes)
    release(batch.entries)
    notify(batch.entries, applied)
    if (isolate > 0) isolate -= 1
    rowAttempts = 0
    if (outageSince !== null) {
      log.info('spend flushing resumed', { after_seconds: (Date.now() - outageSince) / 1000, backlog: pending.count })
      outageSince = null
    }
    backoffMs = 0
    retryAt = 0
    return 'settled'
  }

  function onFailure(error: unknown, batch: SpoolBatch): 'settled' | 'failed' {
    const reason = error instanceof Error ? error.message : String(error)
    if (!options.isConnectionError(error)) {
      if (batch.entries.length > 1) {
        // Something in this batch is refused; settle its rows one by one to find it, without waiting.
        isolate = batch.entries.length
        log.warn('a spend batch was refused; settling its rows one at a time', { rows: batch.entries.length, error: reason })
        return 'settled'
      }
      rowAttempts += 1
      if (rowAttempts >= MAX_ROW_ATTEMPTS) {
        rejectRow(batch, reason)
        rowAttempts = 0
        if (isolate > 0) isolate -= 1
        return 'settled'
      }
    } else if (outageSince === null) {
      outageSince = Date.now()
      log.warn('database unreachable: settlements stay in the spend spool and are retried', { backlog: pending.count, error: reason })
    }
    backoffMs = Math.min(Math.max(backoffMs * 2, MIN_BACKOFF_MS), MAX_BACKOFF_MS)
    retryAt = Date.now() + backoffMs
    return 'failed'
  }

  function notify(entries: readonly SpoolEntry[], applied: readonly string[]): void {
    if (listeners.length === 0 || applied.length === 0) return
    const fresh = new Set(applied)
    const rows = entries.map((entry) => entry.row).filter((row) => fresh.delete(row.requestId))
    for (const listener of listeners) {
      Promise.resolve()
        .then(() => listener(rows))
        .catch((error) => log.error('a spend settlement listener failed', { error: String(error) }))
    }
  }

  /**
   * Settles batches until the spool is empty — or, for the background flusher (`fullBatchesOnly`), until less
   * than a full batch is left: under steady traffic a partial remainder waits for the next tick instead of
   * paying a transaction and an fsync for a handful of rows, so a busy gateway writes a few large batches a
   * second rather than a stream of small ones.
   */
  async function drain(fullBatchesOnly = false): Promise<FlushResult> {
    let settled = 0
    try {
      for (let first = true; ; first = false) {
        if (!first && fullBatchesOnly && isolate === 0 && pending.count < batchSize) return { settled, remaining: pending.count }
        const before = pending.count
        const outcome = await settleNext()
        settled += before - pending.count
        if (outcome === 'empty') return { settled, remaining: pending.count }
        if (outcome === 'failed') return { settled, remaining: pending.count, error: 'database write failed; retrying with backoff' }
      }
    } finally {
      updateGauges()
    }
  }

  function drainInBackground(): void {
    if (draining || Date.now() < retryAt) return
    draining = drain(true).finally(() => {
      draining = null
    })
    draining.catch((error) => log.error('spend flush failed', { error: String(error) }))
  }

  async function flush(): Promise<FlushResult> {
    if (draining) await draining.catch(() => {})
    draining = drain().finally(() => {
      draining = null
    })
    return draining
  }

  async function runRetention(): Promise<RetentionResult | null> {
    const now = new Date(clock.now())
    if (!(await repos.jobLeases.acquire(RETENTION_LEASE, instance, now, RETENTION_LEASE_TTL_MS))) return null
    if (now.getTime() - lastRetention < RETENTION_INTERVAL_MS) return null
    lastRetention = now.getTime()
    const result = await pruneSpend(repos, now, options.spendLogRetention)
    if (result.spendLogs || result.settledMarkers) log.info('spend retention pruned rows', { spend_logs: result.spendLogs, settled_markers: result.settledMarkers })
    return result
  }

  return {
    instance,
    record(row) {
      if (!row.requestId) {
        // Every row has a gateway id (a missing one once dropped streaming rows upstream); never drop it here.
        row = { ...row, requestId: newId() }
        log.warn('a settlement without request_id got a generated one', { request_id: row.requestId })
      }
      accept({ recordedAt: clock.now(), row })
      metrics.spoolEvents.set(pending.count)
      if (started && !stopping && pending.count >= batchSize) drainInBackground()
    },
    pendingSpend: (kind, id) => pending.spendOf(kind, id),
    settlingGeneration: () => generation,
    onSettled: (listener) => void listeners.push(listener),
    backlog: currentBacklog,
    flush,
    async start() {
      if (started) return
      started = true
      adopt()
      updateGauges()
      timers.push(setInterval(() => (updateGauges(), drainInBackground()), options.batchIntervalMs))
      timers.push(
        setInterval(() => {
          try {
            spool?.heartbeat()
            adopt()
          } catch (error) {
            log.warn('spend spool heartbeat failed', { error: String(error) })
          }
        }, HEARTBEAT_MS),
      )
      const retention = () => void runRetention().catch((error) => log.warn('spend retention failed', { error: String(error) }))
      timers.push(setInterval(retention, RETENTION_CHECK_MS))
      retention()
      drainInBackground()
    },
    async stop() {
      stopping = true
      for (const timer of timers.splice(0)) clearInterval(timer)
      const deadline = Date.now() + (options.stopTimeoutMs ?? 15_000)
      // Bounded even when a database call hangs instead of failing (a proxy that accepts and drops connections).
      const untilDeadline = () => Bun.sleep(Math.max(0, deadline - Date.now())).then(() => ({ error: 'deadline' }))
      while (pending.count > 0 && Date.now() < deadline) {
        const flushing = flush()
        flushing.catch(() => {})
        const result = await Promise.race([flushing, untilDeadline()])
        if (!result.error) continue
        await Bun.sleep(Math.max(0, Math.min(backoffMs, deadline - Date.now())))
      }
      if (pending.count > 0) log.warn('stopping with unsettled spend: it stays in the spool and is replayed at the next start', { backlog: pending.count, file: spool?.path })
      spool?.close(pending.count === 0)
      spool = null
      nextSpoolName = spoolName()
      // What is left is in the closed file now; the next start adopts it and counts it again.
      pending = new PendingSpend()
      started = false
      stopping = false
    },
    runRetention,
  }
}
