/**
 * The rate-limit decision as a pure function: (levels with limits, their current window counts and slots in
 * use, now) → admit with the success headers, or refuse naming the exact level, id and limit type with
 * `Retry-After` and the refusing level's headers. Both counter stores call it on the counts they read, so one
 * instance and many decide by the same rule; the Redis script repeats only its comparisons (`count >= limit`).
 */
import type { LevelLimit } from './levels'
import { secondsUntilBelow, windowTotal, type SecondCounts } from './window'

export type LimitType = 'rpm' | 'tpm' | 'max_parallel_requests'

/** What a store read for one level, before this request is counted. */
export type LevelState = {
  readonly requests: SecondCounts
  readonly tokens: SecondCounts
  /** Slots held now (unexpired leases). */
  readonly inFlight: number
}

export type Refusal = {
  readonly level: string
  readonly id: string
  readonly type: LimitType
  readonly limit: number
  readonly retryAfterSeconds: number
  /** `Retry-After` and the refusing level's `x-ratelimit-*` headers. */
  readonly headers: Readonly<Record<string, string>>
}

export type Decision =
  | { readonly admitted: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly admitted: false; readonly refusal: Refusal }

export const EMPTY_STATE: LevelState = { requests: [], tokens: [], inFlight: 0 }

type Usage = { requests: number; tokens: number }

/** Checks every level in order; the first limit reached refuses. Nothing is counted here. */
export function decide(levels: readonly LevelLimit[], states: readonly LevelState[], nowSecond: number): Decision {
  const usage: Usage[] = []
  for (const [index, level] of levels.entries()) {
    const state = states[index] ?? EMPTY_STATE
    const used = { requests: windowTotal(state.requests, nowSecond), tokens: windowTotal(state.tokens, nowSecond) }
    usage.push(used)
    const type = reachedLimit(level, used, state.inFlight)
    if (type) {
      const retryAfterSeconds = Math.max(
        level.rpm !== null && used.requests >= level.rpm ? secondsUntilBelow(state.requests, nowSecond, level.rpm) : 1,
        level.tpm !== null && used.tokens >= level.tpm ? secondsUntilBelow(state.tokens, nowSecond, level.tpm) : 1,
      )
      const limit = type === 'rpm' ? level.rpm : type === 'tpm' ? level.tpm : level.maxParallel
      return {
        admitted: false,
        refusal: {
          level: level.level,
          id: level.id,
          type,
          limit: limit ?? 0,
          retryAfterSeconds,
          headers: { 'retry-after': String(retryAfterSeconds), ...levelHeaders(level, used, '') },
        },
      }
    }
  }
  return { admitted: true, headers: successHeaders(levels, usage) }
}

/** Requests are checked before tokens, then slots; TPM is post-paid, so the window must be below the limit. */
function reachedLimit(level: LevelLimit, used: Usage, inFlight: number): LimitType | null {
  if (level.rpm !== null && used.requests >= level.rpm) return 'rpm'
  if (level.tpm !== null && used.tokens >= level.tpm) return 'tpm'
  if (level.maxParallel !== null && inFlight >= level.maxParallel) return 'max_parallel_requests'
  return null
}

/** The refusal for the per-instance `global_max_parallel_requests` cap, in the same form. */
export function globalSlotsRefusal(limit: number): Refusal {
  return {
    level: 'global',
    id: 'global_max_parallel_requests',
    type: 'max_parallel_requests',
    limit,
    retryAfterSeconds: 1,
    headers: { 'retry-after': '1' },
  }
}

/**
 * `x-ratelimit-{limit|remaining}-{requests|tokens}` for one level, with `infix` = `{level}-` for the per-level
 * form. Requests headers only when the level has an rpm limit, token headers only with a tpm limit.
 */
function levelHeaders(level: LevelLimit, used: Usage, infix: string): Record<string, string> {
  const headers: Record<string, string> = {}
  if (level.rpm !== null) {
    headers[`x-ratelimit-${infix}limit-requests`] = String(level.rpm)
    headers[`x-ratelimit-${infix}remaining-requests`] = String(Math.max(0, level.rpm - used.requests))
  }
  if (level.tpm !== null) {
    headers[`x-ratelimit-${infix}limit-tokens`] = String(level.tpm)
    headers[`x-ratelimit-${infix}remaining-tokens`] = String(Math.max(0, level.tpm - used.tokens))
  }
  return headers
}

/**
 * After admission: every limited level's own headers, and the four unprefixed headers from the most
 * constraining level — for requests and for tokens separately, the level with the fewest remaining (the first
 * one on a tie), so a client reading them knows how many it really has left.
 */
function successHeaders(levels: readonly LevelLimit[], usage: readonly Usage[]): Record<string, string> {
  const headers: Record<string, string> = {}
  let requests: { limit: number; remaining: number } | null = null
  let tokens: { limit: number; remaining: number } | null = null
  for (const [index, level] of levels.entries()) {
    // This request is now counted in the window; its tokens are not known yet.
    const used = { requests: usage[index].requests + 1, tokens: usage[index].tokens }
    Object.assign(headers, levelHeaders(level, used, `${level.level}-`))
    if (level.rpm !== null && (requests === null || level.rpm - used.requests < requests.remaining)) {
      requests = { limit: level.rpm, remaining: level.rpm - used.requests }
    }
    if (level.tpm !== null && (tokens === null || level.tpm - used.tokens < tokens.remaining)) {
      tokens = { limit: level.tpm, remaining: level.tpm - used.tokens }
    }
  }
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit)
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, requests.remaining))
  }
  if (tokens) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit)
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tokens.remaining))
  }
  return headers
}
