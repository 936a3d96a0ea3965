import { describe, expect, test } from 'bun:test'
import { ApiError } from '../../http/errors'
import { ManualClock } from '../../lib/clock'
import { silentLogger } from '../../lib/logger'
import type { LevelLimit } from './levels'
import { RateLimiter } from './limiter'
import { MemoryCounterStore } from './memory-store'
import type { RateCounters } from './store'

const clock = new ManualClock()

/** A memory store that counts how often the limiter reaches it. */
function countingStore() {
  const inner = new MemoryCounterStore(clock)
  const calls = { admit: 0, addTokens: 0 }
  const store: RateCounters = {
    admit: (levels, lease) => (calls.admit++, inner.admit(levels, lease)),
    addTokens: (levels, tokens) => (calls.addTokens++, inner.addTokens(levels, tokens)),
  }
  return { store, calls }
}

const limiter = (store: RateCounters, globalMaxParallel: number | null = null) =>
  new RateLimiter({ store, clock, log: silentLogger, tokenRateLimitType: 'total', globalMaxParallel, leaseTtlMs: 660_000 })

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (caught) => caught,
  )
  if (!(error instanceof ApiError)) throw new Error(`expected a refusal, got ${error}`)
  return error.message
}

describe('the rate limiter the proxy calls', () => {
  test('with no limit anywhere there is no limiter: no counter is touched and no header is sent', async () => {
    const { store, calls } = countingStore()
    const ticket = await limiter(store).admit([])
    await ticket.settle({ promptTokens: 10, completionTokens: 10 })
    await ticket.release()
    expect(ticket.headers).toEqual({})
    expect(calls).toEqual({ admit: 0, addTokens: 0 })
  })

  test('global_max_parallel_requests caps requests in flight on this instance, and a release frees the slot', async () => {
    const { store } = countingStore()
    const proxy = limiter(store, 2)
    const first = await proxy.admit([])
    await proxy.admit([])
    expect(await refusedWith(proxy.admit([]))).toBe(
      'Rate limit exceeded for global: global_max_parallel_requests. Limit type: max_parallel_requests. Current limit: 2, Remaining: 0.',
    )
    await first.release()
    await first.release()
    expect(proxy.inFlight).toBe(1)
    await proxy.admit([])
    expect(proxy.inFlight).toBe(2)
  })

  test('a request refused at a level gives its global slot back', async () => {
    const { store } = countingStore()
    const proxy = limiter(store, 5)
    const team: LevelLimit = { level: 'team', id: 't', rpm: 0, tpm: null, maxParallel: null }
    expect(await refusedWith(proxy.admit([team]))).toBe('Rate limit exceeded for team: t. Limit type: rpm. Current limit: 0, Remaining: 0.')
    expect(proxy.inFlight).toBe(0)
  })

  test('settle and release never throw, even when the counters fail', async () => {
    const failing: RateCounters = {
      admit: async () => ({ decision: { admitted: true, headers: {} }, releaseSlots: () => Promise.reject(new Error('gone')) }),
      addTokens: () => Promise.reject(new Error('gone')),
    }
    const ticket = await limiter(failing).admit([{ level: 'api_key', id: 'k', rpm: 1, tpm: 1, maxParallel: 1 }])
    await ticket.settle({ promptTokens: 1, completionTokens: 1 })
    await ticket.release()
  })
})
