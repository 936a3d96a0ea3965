/**
 * Where counters live: in this process (one instance) or in Redis (shared by every instance). One interface
 * for both, so the limiter and the budget code do not care which is in force, and one test suite runs against
 * each (stores.test.ts).
 */
import type { Decision } from './decide'
import type { LevelLimit } from './levels'

/** A parallel slot taken on admission; in Redis it expires at `expiresAtMs` if its holder never releases it. */
export type SlotLease = { readonly id: string; readonly expiresAtMs: number }

export type Admission = {
  readonly decision: Decision
  /** Gives back the slots this admission took, in the store that took them. A no-op when refused. */
  releaseSlots(): Promise<void>
}

export interface RateCounters {
  /**
   * Atomically: reads every level's window and slots, decides (decide.ts), and only when every level admits
   * counts the request at each level with an rpm limit and takes a slot at each level with a parallel limit.
   * A refused request consumes nothing anywhere.
   */
  admit(levels: readonly LevelLimit[], lease: SlotLease): Promise<Admission>
  /** Adds a settled request's tokens to the current second at every level with a tpm limit. */
  addTokens(levels: readonly LevelLimit[], tokens: number): Promise<void>
}

/** A float counter per scope and window (budgets' committed spend), e.g. `{ scope: 'team:t1', window: '1767225600000' }`. */
export type FloatKey = { readonly scope: string; readonly window: string }

export interface FloatCounters {
  /** The current value, or null when nothing is seeded (the caller seeds it from the database). */
  getFloat(key: FloatKey): Promise<number | null>
  /** Sets the value only if the counter is absent; returns the value in force. `ttlSeconds` bounds its life. */
  seedFloat(key: FloatKey, value: number, ttlSeconds?: number): Promise<number>
  /**
   * Adds `amount` in IEEE-754 double arithmetic (so a sum equals the database's `spend + cost`) and returns the
   * new value; null, changing nothing, when the counter is not seeded.
   */
  incrementFloat(key: FloatKey, amount: number): Promise<number | null>
  /**
   * Forgets the counters of `scope` in every window (with `prefix`, of every scope starting with it), so the
   * next read seeds them from the database again: after spend was overwritten there (`/key/{key}/reset_spend`,
   * `/global/spend/reset`). Returns how many were dropped.
   */
  deleteFloats(scope: string, options?: { prefix?: boolean }): Promise<number>
}

export type CounterStore = RateCounters & FloatCounters
