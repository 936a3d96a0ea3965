import { describe, expect, test } from 'bun:test'
import { decide, EMPTY_STATE, type LevelState } from './decide'
import type { LevelLimit } from './levels'
import { secondsUntilBelow, windowTotal } from './window'

const NOW = 1_768_478_400
const level = (fields: Partial<LevelLimit> & Pick<LevelLimit, 'level' | 'id'>): LevelLimit => ({ rpm: null, tpm: null, maxParallel: null, ...fields })
const state = (fields: Partial<LevelState> = {}): LevelState => ({ ...EMPTY_STATE, ...fields })

describe('sliding window', () => {
  test('the window is the current second and the 59 before it', () => {
    const counts = [
      [NOW - 60, 5],
      [NOW - 59, 1],
      [NOW - 1, 2],
      [NOW, 3],
      [NOW + 1, 7],
    ] as const
    expect(windowTotal(counts, NOW)).toBe(6)
    expect(windowTotal(counts, NOW + 1)).toBe(12)
  })

  test('retry-after is the wait until enough of the window has slid out, at least 1 and at most 60', () => {
    // Limit 2: one request 59 s ago and one now; the old one leaves next second.
    expect(secondsUntilBelow([[NOW - 59, 1], [NOW, 1]], NOW, 2)).toBe(1)
    // Both 10 s ago: they leave when the window starts after them, 50 s from now.
    expect(secondsUntilBelow([[NOW - 10, 2]], NOW, 2)).toBe(50)
    // Everything in the current second: 60 s.
    expect(secondsUntilBelow([[NOW, 2]], NOW, 2)).toBe(60)
    // A limit of 0 never admits; 60 is the honest bound.
    expect(secondsUntilBelow([], NOW, 0)).toBe(60)
  })
})

describe('rate-limit decision', () => {
  test('a key with rpm 2 admits while below the limit and refuses the third with Retry-After and its headers', () => {
    const key = level({ level: 'api_key', id: 'hash1', rpm: 2 })
    const first = decide([key], [state()], NOW)
    expect(first).toEqual({
      admitted: true,
      headers: {
        'x-ratelimit-api_key-limit-requests': '2',
        'x-ratelimit-api_key-remaining-requests': '1',
        'x-ratelimit-limit-requests': '2',
        'x-ratelimit-remaining-requests': '1',
      },
    })
    const third = decide([key], [state({ requests: [[NOW - 5, 1], [NOW, 1]] })], NOW)
    expect(third).toEqual({
      admitted: false,
      refusal: {
        level: 'api_key',
        id: 'hash1',
        type: 'rpm',
        limit: 2,
        retryAfterSeconds: 55,
        headers: { 'retry-after': '55', 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0' },
      },
    })
  })

  test('levels are checked in order and the first that is full names itself', () => {
    const levels = [
      level({ level: 'api_key', id: 'k', rpm: 10 }),
      level({ level: 'team', id: 't', rpm: 1 }),
      level({ level: 'user', id: 'u', rpm: 1 }),
    ]
    const full = state({ requests: [[NOW, 1]] })
    const decision = decide(levels, [state(), full, full], NOW)
    expect(decision.admitted).toBe(false)
    if (!decision.admitted) expect([decision.refusal.level, decision.refusal.id, decision.refusal.type]).toEqual(['team', 't', 'rpm'])
  })

  test('TPM is post-paid: admitted while below the limit, refused once the window reaches it', () => {
    const team = level({ level: 'team', id: 't', tpm: 100 })
    const below = decide([team], [state({ tokens: [[NOW - 3, 99]] })], NOW)
    expect(below.admitted).toBe(true)
    if (below.admitted) expect(below.headers['x-ratelimit-remaining-tokens']).toBe('1')
    const reached = decide([team], [state({ tokens: [[NOW - 3, 250]] })], NOW)
    expect(reached.admitted).toBe(false)
    if (!reached.admitted) {
      expect(reached.refusal).toMatchObject({ level: 'team', type: 'tpm', limit: 100, retryAfterSeconds: 57 })
      // Only the token headers: this level has no rpm limit.
      expect(reached.refusal.headers).toEqual({ 'retry-after': '57', 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '0' })
    }
  })

  test('a level over both limits waits for both before it would admit', () => {
    const key = level({ level: 'api_key', id: 'k', rpm: 1, tpm: 10 })
    const decision = decide([key], [state({ requests: [[NOW - 50, 1]], tokens: [[NOW - 20, 10]] })], NOW)
    expect(decision.admitted).toBe(false)
    if (!decision.admitted) expect([decision.refusal.type, decision.refusal.retryAfterSeconds]).toEqual(['rpm', 40])
  })

  test('parallel slots refuse when all are held, with Retry-After 1', () => {
    const key = level({ level: 'api_key', id: 'k', maxParallel: 2 })
    expect(decide([key], [state({ inFlight: 1 })], NOW).admitted).toBe(true)
    const full = decide([key], [state({ inFlight: 2 })], NOW)
    expect(full).toEqual({
      admitted: false,
      refusal: { level: 'api_key', id: 'k', type: 'max_parallel_requests', limit: 2, retryAfterSeconds: 1, headers: { 'retry-after': '1' } },
    })
  })

  test('success headers: every limited level, and the fewest remaining for requests and for tokens', () => {
    const levels = [
      level({ level: 'api_key', id: 'k', rpm: 100, tpm: 1000 }),
      level({ level: 'team', id: 't', rpm: 10 }),
      level({ level: 'organization', id: 'o', tpm: 5000, maxParallel: null }),
    ]
    const decision = decide(levels, [state({ requests: [[NOW, 3]], tokens: [[NOW, 900]] }), state({ requests: [[NOW - 1, 4]] }), state({ tokens: [[NOW, 10]] })], NOW)
    expect(decision).toEqual({
      admitted: true,
      headers: {
        'x-ratelimit-api_key-limit-requests': '100',
        'x-ratelimit-api_key-remaining-requests': '96',
        'x-ratelimit-api_key-limit-tokens': '1000',
        'x-ratelimit-api_key-remaining-tokens': '100',
        'x-ratelimit-team-limit-requests': '10',
        'x-ratelimit-team-remaining-requests': '5',
        'x-ratelimit-organization-limit-tokens': '5000',
        'x-ratelimit-organization-remaining-tokens': '4990',
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '5',
        'x-ratelimit-limit-tokens': '1000',
        'x-ratelimit-remaining-tokens': '100',
      },
    })
  })

  test('no limits: admitted with no headers', () => {
    expect(decide([], [], NOW)).toEqual({ admitted: true, headers: {} })
  })
})
