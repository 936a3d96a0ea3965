/**
 * Daily pruning, run by one instance at a time (a `job_leases` row): raw spend_logs rows older than
 * `general_settings.maximum_spend_logs_retention_period`, and settled-request markers older than
 * `SETTLED_MARKER_RETENTION_DAYS`. Entity spend and daily rollups are never pruned. Deletes go in bounded chunks
 * so a first run over a large table does not hold one huge transaction.
 */
import type { Repositories } from '../db/ports'
import { addDuration, parseDuration } from '../lib/duration'
import { SETTLED_MARKER_RETENTION_DAYS } from './settle'

export const RETENTION_LEASE = 'spend-retention'
/** Renewed every check (hourly) by the holder; another instance takes over this long after the holder is gone. */
export const RETENTION_LEASE_TTL_MS = 25 * 3_600_000
export const RETENTION_INTERVAL_MS = 86_400_000
const DELETE_CHUNK = 10_000

/** `now − duration` (calendar months step the UTC date back, the day clamped to the month's end). */
export function durationBefore(now: Date, duration: string): Date {
  const parsed = parseDuration(duration)
  if (!parsed) throw new Error(`not a duration: ${duration}`)
  return addDuration(now, { amount: -parsed.amount, unit: parsed.unit })
}

export type RetentionResult = { spendLogs: number; settledMarkers: number }

async function deleteInChunks(remove: (limit: number) => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await remove(DELETE_CHUNK)
    total += deleted
    if (deleted < DELETE_CHUNK) return total
  }
}

export async function pruneSpend(repos: Repositories, now: Date, spendLogRetention: string | null): Promise<RetentionResult> {
  const spendLogs = spendLogRetention
    ? await deleteInChunks((limit) => repos.spendLogs.deleteOlderThan(durationBefore(now, spendLogRetention), limit))
    : 0
  const markerCutoff = new Date(now.getTime() - SETTLED_MARKER_RETENTION_DAYS * 86_400_000)
  const settledMarkers = await deleteInChunks((limit) => repos.settledRequests.deleteOlderThan(markerCutoff, limit))
  return { spendLogs, settledMarkers }
}
