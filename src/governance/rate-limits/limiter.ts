/**
 * What the proxy's admission step calls. `admit(levels)` refuses with the 429 ApiError of §6.5 or returns a
 * ticket; the ticket's `settle(usage)` counts the request's tokens (TPM is post-paid) and `release()` gives the
 * parallel slots back. Both are idempotent and never throw, so the proxy calls `settle` from its settlement
 * hook and `release` in a `finally` on every path (success, upstream error, timeout, disconnect).
 */
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import { globalSlotsRefusal } from './decide'
import { countedTokens, isLimited, type LevelLimit, type TokenRateLimitType, type TokenUsage } from './levels'
import { rateLimitError } from './refusal'
import type { RateCounters } from './store'

export type RateLimitTicket = {
  /** `x-ratelimit-*` for the success response (empty when nothing is limited). */
  readonly headers: Readonly<Record<string, string>>
  /** Counts the settled request's tokens at every level with a tpm limit; only the first call counts. */
  settle(usage: TokenUsage): Promise<void>
  /** Frees the slots taken on admission; only the first call frees. */
  release(): Promise<void>
}

export type RateLimiterOptions = {
  store: RateCounters
  clock: Clock
  log: Logger
  tokenRateLimitType: TokenRateLimitType
  /** `general_settings.global_max_parallel_requests`: requests in flight on this instance, not shared. */
  globalMaxParallel: number | null
  /** How long a slot lease lives in Redis if its holder never releases it: request timeout + 60 s. */
  leaseTtlMs: number
}

export class RateLimiter {
  private globalInFlight = 0

  constructor(private readonly options: RateLimiterOptions) {}

  /** Throws the 429 ApiError when any level refuses; nothing is counted anywhere then. */
  async admit(levels: readonly LevelLimit[]): Promise<RateLimitTicket> {
    const limited = levels.filter(isLimited)
    const globalMax = this.options.globalMaxParallel
    if (limited.length === 0 && globalMax === null) return UNLIMITED
    // The instance's own cap is checked first: it costs no round trip, and a refusal here counts nothing.
    if (globalMax !== null && this.globalInFlight >= globalMax) throw rateLimitError(globalSlotsRefusal(globalMax))
    if (globalMax !== null) this.globalInFlight++
    let releaseGlobal = globalMax !== null
    const freeGlobal = () => {
      if (releaseGlobal) this.globalInFlight--
      releaseGlobal = false
    }

    let admission
    try {
      const lease = { id: crypto.randomUUID(), expiresAtMs: this.options.clock.now() + this.options.leaseTtlMs }
      admission = limited.length === 0 ? null : await this.options.store.admit(limited, lease)
    } catch (error) {
      freeGlobal()
      throw error
    }
    if (admission && !admission.decision.admitted) {
      freeGlobal()
      throw rateLimitError(admission.decision.refusal)
    }

    let settled = false
    let released: Promise<void> | null = null
    return {
      headers: admission?.decision.admitted ? admission.decision.headers : {},
      settle: async (usage) => {
        if (settled) return
        settled = true
        const tokens = countedTokens(usage, this.options.tokenRateLimitType)
        await this.options.store.addTokens(limited, tokens).catch((error) => this.warn('counting tokens failed', error))
      },
      release: () => {
        released ??= (async () => {
          freeGlobal()
          await admission?.releaseSlots().catch((error) => this.warn('releasing parallel slots failed', error))
        })()
        return released
      },
    }
  }

  /** Requests in flight on this instance under `global_max_parallel_requests` (for tests and metrics). */
  get inFlight(): number {
    return this.globalInFlight
  }

  private warn(message: string, error: unknown): void {
    this.options.log.warn(message, { error: String(error) })
  }
}

const UNLIMITED: RateLimitTicket = { headers: {}, settle: async () => {}, release: async () => {} }
