import { describe, expect, test } from 'bun:test'
import { settingsFromObject } from '../config/load'
import type { Deployment } from '../deployments/deployment'
import { ManualClock } from '../lib/clock'
import { Cooldowns, type DeploymentState } from './cooldowns'
import { backoffMs, fallsBack, isContextWindowError, isRetryable } from './policy'
import { attemptTimeoutSeconds, configuredFallbacks, routingSettingsOf } from './settings'
import { leastBusy, simpleShuffle } from './strategies'
import { tagEligible } from './tags'
import { deployment, sequence } from '../../test/routing-fixtures'

const settingsOf = (config: Record<string, unknown>) => routingSettingsOf(settingsFromObject(config).config)

describe('routing settings', () => {
  test('router_settings win over litellm_settings, and the defaults are the contract’s', () => {
    const defaults = settingsOf({}).settings
    expect(defaults).toMatchObject({ numRetries: 0, timeoutSeconds: 600, streamTimeoutSeconds: null, allowedFails: 3, cooldownMs: 5000 })
    expect(defaults).toMatchObject({ strategy: 'simple-shuffle', tagFiltering: false })
    const both = settingsOf({
      litellm_settings: { num_retries: 1, request_timeout: 30, fallbacks: [{ a: ['x'] }], context_window_fallbacks: [{ a: ['y'] }] },
      router_settings: { num_retries: 4, timeout: 20, fallbacks: [{ a: ['z'] }, { b: ['w'] }] },
    }).settings
    expect(both).toMatchObject({ numRetries: 4, timeoutSeconds: 20 })
    expect(configuredFallbacks(both.fallbacks, 'a')).toEqual(['z'])
    expect(configuredFallbacks(both.fallbacks, 'b')).toEqual(['w'])
    expect(configuredFallbacks(both.contextWindowFallbacks, 'a')).toEqual(['y'])
    const fromLitellm = settingsOf({ litellm_settings: { num_retries: 2, request_timeout: 30 } }).settings
    expect(fromLitellm).toMatchObject({ numRetries: 2, timeoutSeconds: 30 })
  })

  test('a `*` entry gives every group without its own entry its fallbacks', () => {
    const { fallbacks } = settingsOf({ router_settings: { fallbacks: [{ '*': ['any'] }, { a: ['x'] }] } }).settings
    expect(configuredFallbacks(fallbacks, 'a')).toEqual(['x'])
    expect(configuredFallbacks(fallbacks, 'other')).toEqual(['any'])
  })

  test('an unsupported routing strategy is accepted with a warning and routes as simple-shuffle', () => {
    expect(settingsOf({ router_settings: { routing_strategy: 'least-busy' } })).toEqual(expect.objectContaining({ warnings: [] }))
    const latency = settingsOf({ router_settings: { routing_strategy: 'latency-based-routing' } })
    expect(latency.settings.strategy).toBe('simple-shuffle')
    expect(latency.warnings).toEqual(["config: router_settings.routing_strategy 'latency-based-routing' is not supported; using simple-shuffle"])
  })

  test('timeouts: a deployment’s own over the router’s; streams use stream_timeout first', () => {
    const settings = settingsOf({ router_settings: { timeout: 20, stream_timeout: 5 } }).settings
    const plain = deployment('plain')
    const own = deployment('own', { timeout: 7, stream_timeout: 2 })
    expect(attemptTimeoutSeconds(settings, plain, false)).toBe(20)
    expect(attemptTimeoutSeconds(settings, plain, true)).toBe(5)
    expect(attemptTimeoutSeconds(settings, own, false)).toBe(7)
    expect(attemptTimeoutSeconds(settings, own, true)).toBe(2)
    const noStreamTimeout = settingsOf({ litellm_settings: { request_timeout: 30 } }).settings
    expect(attemptTimeoutSeconds(noStreamTimeout, plain, true)).toBe(30)
    expect(attemptTimeoutSeconds(noStreamTimeout, deployment('t', { timeout: 9 }), true)).toBe(9)
  })
})

describe('load-balancing strategies', () => {
  const [a, b, c] = ['a', 'b', 'c']
  test('simple-shuffle weighs by weight (missing = 1), else by rpm or tpm when every candidate has one, else evenly', () => {
    const weighted = [deployment(a, { weight: 3 }), deployment(b)]
    // Weights 3 and 1: the first three quarters of [0, 1) pick `a`.
    expect(simpleShuffle(sequence(0.74)).select(weighted).id).toBe(a)
    expect(simpleShuffle(sequence(0.76)).select(weighted).id).toBe(b)
    const byRpm = [deployment(a, { rpm: 100 }), deployment(b, { rpm: 300 })]
    expect(simpleShuffle(sequence(0.24)).select(byRpm).id).toBe(a)
    expect(simpleShuffle(sequence(0.26)).select(byRpm).id).toBe(b)
    const byTpm = [deployment(a, { tpm: 900 }), deployment(b, { tpm: 100 })]
    expect(simpleShuffle(sequence(0.89)).select(byTpm).id).toBe(a)
    expect(simpleShuffle(sequence(0.91)).select(byTpm).id).toBe(b)
    // rpm on one candidate only says nothing about the others: even.
    const partial = [deployment(a, { rpm: 1 }), deployment(b), deployment(c)]
    expect([0.1, 0.4, 0.9].map((r) => simpleShuffle(sequence(r)).select(partial).id)).toEqual([a, b, c])
  })

  test('least-busy takes the deployment with the fewest requests in flight, ties at random', () => {
    const candidates = [deployment(a), deployment(b), deployment(c)]
    const busy: Record<string, number> = { a: 2, b: 1, c: 1 }
    expect(leastBusy((d) => busy[d.id], sequence(0)).select(candidates).id).toBe(b)
    expect(leastBusy((d) => busy[d.id], sequence(0.99)).select(candidates).id).toBe(c)
  })
})

describe('tag routing', () => {
  const paid = deployment('paid', { tags: ['paid'] })
  const fallback = deployment('fallback', { tags: ['default'] })
  const plain = deployment('plain')
  const ids = (list: readonly Deployment[]) => list.map((d) => d.id)

  test('a tagged deployment serves only requests carrying its tag; untagged requests get default-tagged and untagged ones', () => {
    expect(ids(tagEligible([paid, fallback, plain], ['paid', 'x']))).toEqual(['paid'])
    expect(ids(tagEligible([paid, fallback, plain], []))).toEqual(['fallback', 'plain'])
    expect(ids(tagEligible([paid, fallback, plain], ['unknown']))).toEqual(['fallback', 'plain'])
    expect(ids(tagEligible([paid], []))).toEqual([])
  })
})

describe('failure policy', () => {
  const http = (status: number, more: object = {}) => ({ kind: 'http' as const, status, retryAfterSeconds: null, ...more })

  test('408, 429, 5xx, timeouts and connection errors are retried; other 4xx and cancellations are not', () => {
    for (const failure of [http(408), http(429), http(500), http(503), { kind: 'timeout' as const, status: 408, retryAfterSeconds: null }]) {
      expect(isRetryable(failure)).toBe(true)
    }
    expect(isRetryable({ kind: 'connection', status: null, retryAfterSeconds: null })).toBe(true)
    for (const failure of [http(400), http(401), http(404), http(422), { kind: 'cancelled' as const, status: null, retryAfterSeconds: null }]) {
      expect(isRetryable(failure)).toBe(false)
    }
  })

  test('fallbacks follow everything but a malformed request or a client that left; context-window errors too', () => {
    expect(fallsBack(http(500))).toBe(true)
    expect(fallsBack(http(401))).toBe(true)
    expect(fallsBack(http(400))).toBe(false)
    expect(fallsBack(http(400, { contextWindowExceeded: true }))).toBe(true)
    expect(fallsBack({ kind: 'cancelled', status: null, retryAfterSeconds: null })).toBe(false)
  })

  test('backoff doubles from 0.5 s up to 8 s with jitter, and waits at least Retry-After, capped at 10 s', () => {
    const failure = http(500)
    expect(backoffMs(1, failure, () => 0)).toBe(250)
    expect(backoffMs(1, failure, () => 0.999999)).toBeCloseTo(500, 0)
    expect(backoffMs(2, failure, () => 0)).toBe(500)
    expect(backoffMs(10, failure, () => 0.999999)).toBeCloseTo(8000, 0)
    expect(backoffMs(1, { ...failure, retryAfterSeconds: 3 }, () => 0)).toBe(3000)
    expect(backoffMs(1, { ...failure, retryAfterSeconds: 60 }, () => 0)).toBe(10_000)
  })

  test('context-window errors are recognised from OpenAI, Azure and Anthropic wording', () => {
    const body = (message: string, code: string | null = null) => ({ error: { message, type: 'invalid_request_error', code } })
    expect(isContextWindowError(400, body("This model's maximum context length is 8192 tokens", 'context_length_exceeded'))).toBe(true)
    expect(isContextWindowError(400, body('prompt is too long: 210000 tokens > 200000 maximum'))).toBe(true)
    expect(isContextWindowError(400, body('Invalid value for temperature'))).toBe(false)
    expect(isContextWindowError(500, body('maximum context length'))).toBe(false)
  })
})

describe('cooldowns', () => {
  test('the allowed_fails-th failure within 60 s rests a deployment for cooldown_time; older failures do not count', () => {
    const clock = new ManualClock()
    const states: Array<[string, DeploymentState]> = []
    const cooldowns = new Cooldowns({ clock, allowedFails: 3, cooldownMs: 5000, onState: (d, s) => states.push([d.id, s]) })
    const a = deployment('a')
    cooldowns.recordFailure(a)
    cooldowns.recordFailure(a)
    clock.advance(60_000)
    cooldowns.recordFailure(a)
    expect(cooldowns.isCooling(a)).toBe(false)
    cooldowns.recordFailure(a)
    cooldowns.recordFailure(a)
    expect(cooldowns.remainingMs(a)).toBe(5000)
    clock.advance(4999)
    expect(cooldowns.isCooling(a)).toBe(true)
    clock.advance(1)
    expect(cooldowns.isCooling(a)).toBe(false)
    expect(states).toEqual([
      ['a', 1],
      ['a', 2],
      ['a', 0],
    ])
    cooldowns.recordFailure(a)
    cooldowns.recordSuccess(a)
    expect(states.slice(3)).toEqual([
      ['a', 1],
      ['a', 0],
    ])
  })

  test('cooldown_time 0 never rests a deployment', () => {
    const cooldowns = new Cooldowns({ clock: new ManualClock(), allowedFails: 1, cooldownMs: 0, onState: () => {} })
    const a = deployment('a')
    for (let i = 0; i < 5; i++) cooldowns.recordFailure(a)
    expect(cooldowns.isCooling(a)).toBe(false)
  })
})
