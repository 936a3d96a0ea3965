/**
 * Committed spend per scope and window: the counter admission reads (§6.4, §9).
 *
 * - A counter is seeded from the database's stored spend plus this instance's unflushed spend, then every
 *   settlement adds its cost (`add`, called before the row enters the spool, in the same synchronous step).
 * - Where counters live: in this process for one instance; in Redis (shared, seeded once) when configured;
 *   several instances on Postgres without Redis each keep a counter that expires after a second, so each
 *   re-reads the database value at most 1 s old.
 * - Counters are keyed by window (`budget_reset_at`), so a reset switches every instance to a fresh counter.
 * - On one instance a counter whose row changed (a higher `version`: an admin set `spend`, a reset) is
 *   re-read; with Redis, the instance that overwrote spend drops the shared counters (`forget`).
 */
import type { Repositories } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import type { SpendEngine } from '../../spend/engine'
import type { FloatCounters } from '../rate-limits/store'
import { scopeOf, windowIdOf, type LevelBudget, type SpendSource } from './levels'

/** `local`: one instance. `reread`: several on one database without Redis. `shared`: counters in Redis. */
export type CounterMode = 'local' | 'reread' | 'shared'

/** A seed is retried while a spend batch is being written, so stored + pending counts each settlement once. */
const SEED_ATTEMPTS = 50
const REREAD_TTL_SECONDS = 1
const SHARED_LIFETIME_TTL_SECONDS = 3600
const WINDOW_GRACE_SECONDS = 60

export type CommittedSpendDeps = {
  readonly counters: FloatCounters
  readonly spend: Pick<SpendEngine, 'pendingSpend' | 'settlingGeneration'>
  readonly stored: (source: SpendSource) => Promise<number>
  readonly clock: Clock
  readonly mode: CounterMode
}

export class CommittedSpend {
  /** The row version each scope's local counters were seeded at. */
  private readonly seededAt = new Map<string, number>()

  constructor(private readonly deps: CommittedSpendDeps) {}

  async read(level: Pick<LevelBudget, 'source' | 'window' | 'version'>): Promise<number> {
    const scope = scopeOf(level.source)
    const key = { scope, window: windowIdOf(level.window) }
    if (this.deps.mode !== 'shared') {
      const seeded = this.seededAt.get(scope)
      if (seeded !== undefined && level.version > seeded) await this.deps.counters.deleteFloats(scope)
      if (seeded === undefined || level.version > seeded) this.seededAt.set(scope, level.version)
    }
    const value = await this.deps.counters.getFloat(key)
    if (value !== null) return value
    return this.seed(level.source, key, this.ttlSeconds(level))
  }

  /** Adds a settled cost to the scope's counter in `window`; null when that counter is not seeded (nothing to add to). */
  add(scope: string, window: string, amount: number): Promise<number | null> {
    return this.deps.counters.incrementFloat({ scope, window }, amount)
  }

  /** Spend was overwritten in the database: the next read re-seeds (`prefix`: every scope starting with it). */
  async forget(scope: string, options?: { prefix?: boolean }): Promise<void> {
    await this.deps.counters.deleteFloats(scope, options)
  }

  private async seed(source: SpendSource, key: { scope: string; window: string }, ttlSeconds: number | undefined): Promise<number> {
    const { spend, counters } = this.deps
    for (let attempt = 1; ; attempt++) {
      const before = spend.settlingGeneration()
      if (before % 2 === 1 && attempt < SEED_ATTEMPTS) {
        await Bun.sleep(2)
        continue
      }
      const stored = await this.deps.stored(source)
      // A batch committed while we read: its rows may be counted in `stored` and in the pending sums. Read again.
      if (spend.settlingGeneration() !== before && attempt < SEED_ATTEMPTS) continue
      // No await between reading the pending sums and seeding: a settlement cannot slip in between.
      return counters.seedFloat(key, stored + spend.pendingSpend(source.kind, source.id), ttlSeconds)
    }
  }

  private ttlSeconds(level: Pick<LevelBudget, 'window'>): number | undefined {
    const { mode, clock } = this.deps
    if (mode === 'reread') return REREAD_TTL_SECONDS
    if (!level.window) return mode === 'shared' ? SHARED_LIFETIME_TTL_SECONDS : undefined
    // A window's counter is of no use after it ends; keep it a little longer for settlements in flight.
    return Math.max(1, (level.window.endsAt.getTime() - clock.now()) / 1000) + WINDOW_GRACE_SECONDS
  }
}

/** Reads the stored spend of a level from its row (0 when the row does not exist yet). */
export function storedSpendReader(repos: Repositories): (source: SpendSource) => Promise<number> {
  return async ({ kind, id }) => {
    switch (kind) {
      case 'key':
        return (await repos.keys.get(id))?.spend ?? 0
      case 'key_model': {
        const [token, model] = JSON.parse(id) as [string, string]
        const spent = (await repos.keys.get(token))?.modelSpend?.[model]
        return typeof spent === 'number' ? spent : 0
      }
      case 'team':
        return (await repos.teams.get(id))?.spend ?? 0
      case 'membership': {
        const [teamId, userId] = JSON.parse(id) as [string, string]
        return (await repos.memberships.get({ teamId, userId }))?.spend ?? 0
      }
      case 'user':
        return (await repos.users.get(id))?.spend ?? 0
      case 'organization':
        return (await repos.organizations.get(id))?.spend ?? 0
      case 'end_user':
        return (await repos.endUsers.get(id))?.spend ?? 0
      case 'tag':
        return (await repos.tags.get(id))?.spend ?? 0
    }
  }
}
