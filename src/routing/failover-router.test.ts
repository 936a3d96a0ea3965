import { describe, expect, test } from 'bun:test'
import { deployment, sequence } from '../../test/routing-fixtures'
import { settingsFromObject } from '../config/load'
import type { ModelTarget } from '../deployments/catalog'
import type { Deployment } from '../deployments/deployment'
import { MemoryCounterStore } from '../governance/rate-limits/memory-store'
import { ApiError } from '../http/errors'
import { ManualClock } from '../lib/clock'
import { createMemoryLogger } from '../lib/logger'
import { FailoverRouter } from './failover-router'
import type { Attempt, AttemptFailure, RoutePlan } from './router'
import { routingSettingsOf } from './settings'

type Outcome = 'ok' | number | 'timeout' | 'context' | 'cancelled'
type Failure = AttemptFailure & { readonly from: string }

/** A router over scripted attempts: each deployment answers with its queue of outcomes (then `ok`). */
function harness(config: Record<string, unknown> = {}, options: { random?: () => number } = {}) {
  const clock = new ManualClock()
  const waits: number[] = []
  const router = new FailoverRouter({
    settings: routingSettingsOf(settingsFromObject(config).config).settings,
    clock,
    log: createMemoryLogger(),
    counters: new MemoryCounterStore(clock),
    random: options.random ?? sequence(0),
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
  const script = new Map<string, Outcome[]>()
  const calls: Array<{ id: string; group: string; timeoutSeconds: number }> = []
  const attempt: Attempt<string, Failure> = async (d, target, options) => {
    calls.push({ id: d.id, group: target.modelGroup, timeoutSeconds: options.timeoutSeconds })
    const outcome = script.get(d.id)?.shift() ?? 'ok'
    if (outcome === 'ok') return { ok: true, value: d.id }
    const failure: Failure =
      outcome === 'timeout'
        ? { kind: 'timeout', status: 408, retryAfterSeconds: null, from: d.id }
        : outcome === 'cancelled'
          ? { kind: 'cancelled', status: null, retryAfterSeconds: null, from: d.id }
          : outcome === 'context'
            ? { kind: 'http', status: 400, retryAfterSeconds: null, contextWindowExceeded: true, from: d.id }
            : { kind: 'http', status: outcome, retryAfterSeconds: outcome === 429 ? 2 : null, from: d.id }
    return { ok: false, failure }
  }
  const groups = new Map<string, ModelTarget>()
  const group = (name: string, ...deployments: Deployment[]) => {
    const target = { modelGroup: name, deployments }
    groups.set(name, target)
    return target
  }
  const plan = (target: ModelTarget, more: Partial<RoutePlan> = {}): RoutePlan => ({
    requestId: 'r',
    requestedModel: target.modelGroup,
    target,
    stream: false,
    tags: [],
    fallbacks: [],
    resolve: (name) => groups.get(name) ?? null,
    signal: null,
    ...more,
  })
  const fail = (id: string, ...outcomes: Outcome[]) => script.set(id, outcomes)
  return { clock, router, attempt, calls, waits, group, plan, fail }
}

/** The ApiError a route refuses with. */
const refusal = (promise: Promise<unknown>): Promise<ApiError> =>
  promise.then(
    () => Promise.reject(new Error('expected the router to refuse')),
    (error: unknown) => (error instanceof ApiError ? error : Promise.reject(error)),
  )

describe('the failover router', () => {
  test('a retry goes to a deployment that has not failed yet, at once; back to a failed one only after a backoff', async () => {
    const h = harness({ router_settings: { num_retries: 3 } })
    const target = h.group('m', deployment('a'), deployment('b'))
    h.fail('a', 500)
    h.fail('b', 503)
    const routed = await h.router.route(h.plan(target), h.attempt)
    expect(routed).toMatchObject({ ok: true, value: 'a', attemptedRetries: 2, attemptedFallbacks: 0 })
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'b', 'a'])
    // a → b without waiting; b → a (failed before) after retry 2's backoff: 0.5 s × jitter 0.5.
    expect(h.waits).toEqual([500])
  })

  test('num_retries bounds the attempts; the last failure is the answer', async () => {
    const h = harness({ router_settings: { num_retries: 1, cooldown_time: 0 } })
    const target = h.group('m', deployment('a'))
    h.fail('a', 500, 502, 504)
    const routed = await h.router.route(h.plan(target), h.attempt)
    expect(routed).toMatchObject({ ok: false, failure: { status: 502 }, attemptedRetries: 1 })
    expect(h.calls).toHaveLength(2)
  })

  test('a 429 with Retry-After is waited for when the retry goes back to the same deployment', async () => {
    const h = harness({ router_settings: { num_retries: 1 } })
    const target = h.group('m', deployment('a'))
    h.fail('a', 429)
    expect((await h.router.route(h.plan(target), h.attempt)).ok).toBe(true)
    expect(h.waits).toEqual([2000])
  })

  test('client errors are neither retried nor followed by fallbacks', async () => {
    const h = harness({ router_settings: { num_retries: 3, fallbacks: [{ m: ['other'] }] } })
    const target = h.group('m', deployment('a'), deployment('b'))
    h.group('other', deployment('o', {}, 'other'))
    h.fail('a', 400)
    const routed = await h.router.route(h.plan(target), h.attempt)
    expect(routed).toMatchObject({ ok: false, failure: { status: 400 }, attemptedRetries: 0, attemptedFallbacks: 0 })
    expect(h.calls.map((c) => c.id)).toEqual(['a'])
  })

  test('fallbacks after the retries: the client’s list replaces the configured one; unusable names are skipped', async () => {
    const h = harness({ router_settings: { num_retries: 1, cooldown_time: 0, fallbacks: [{ m: ['configured'] }] } })
    const target = h.group('m', deployment('a'))
    h.group('configured', deployment('c', {}, 'configured'))
    h.group('client', deployment('k', {}, 'client'))
    h.fail('a', 500, 500, 500, 500)
    const configured = await h.router.route(h.plan(target), h.attempt)
    expect(configured).toMatchObject({ ok: true, value: 'c', target: { modelGroup: 'configured' }, attemptedRetries: 1, attemptedFallbacks: 1 })
    h.calls.length = 0
    const client = await h.router.route(h.plan(target, { fallbacks: ['not-allowed', 'm', 'client'] }), h.attempt)
    expect(client).toMatchObject({ ok: true, value: 'k', attemptedFallbacks: 1 })
    expect(h.calls.map((c) => c.group)).toEqual(['m', 'm', 'client'])
  })

  test('each fallback group gets its own retries; a malformed-request failure ends the chain', async () => {
    const h = harness({ router_settings: { num_retries: 1, cooldown_time: 0, fallbacks: [{ m: ['f1', 'f2', 'f3'] }] } })
    const target = h.group('m', deployment('a'))
    h.group('f1', deployment('x', {}, 'f1'))
    h.group('f2', deployment('y', {}, 'f2'))
    h.group('f3', deployment('z', {}, 'f3'))
    h.fail('a', 500, 500)
    h.fail('x', 500, 500)
    h.fail('y', 400)
    const routed = await h.router.route(h.plan(target), h.attempt)
    expect(routed).toMatchObject({ ok: false, failure: { from: 'y', status: 400 }, attemptedRetries: 2, attemptedFallbacks: 2 })
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'a', 'x', 'x', 'y'])
  })

  test('a context-window error goes to context_window_fallbacks only, without retries', async () => {
    const h = harness({
      router_settings: { num_retries: 2, fallbacks: [{ m: ['generic'] }], context_window_fallbacks: [{ m: ['long'] }] },
    })
    const target = h.group('m', deployment('a'))
    h.group('generic', deployment('g', {}, 'generic'))
    h.group('long', deployment('l', {}, 'long'))
    h.fail('a', 'context')
    const routed = await h.router.route(h.plan(target), h.attempt)
    expect(routed).toMatchObject({ ok: true, value: 'l', attemptedRetries: 0, attemptedFallbacks: 1 })
  })

  test('a client that left is not retried, and a client leaving during a backoff stops the retries', async () => {
    const h = harness({ router_settings: { num_retries: 3, fallbacks: [{ m: ['other'] }] } })
    const target = h.group('m', deployment('a'))
    h.group('other', deployment('o', {}, 'other'))
    h.fail('a', 'cancelled')
    expect(await h.router.route(h.plan(target), h.attempt)).toMatchObject({ ok: false, failure: { kind: 'cancelled' } })
    expect(h.calls).toHaveLength(1)

    const controller = new AbortController()
    const leaving = harness({ router_settings: { num_retries: 3, cooldown_time: 0 } })
    const leavingTarget = leaving.group('m', deployment('a'))
    leaving.fail('a', 500, 500, 500)
    const plan = leaving.plan(leavingTarget, { signal: controller.signal })
    const attempt: typeof leaving.attempt = async (...args) => {
      const result = await leaving.attempt(...args)
      controller.abort()
      return result
    }
    expect(await leaving.router.route(plan, attempt)).toMatchObject({ ok: false, attemptedRetries: 0 })
    expect(leaving.calls).toHaveLength(1)
  })

  test('every deployment cooling down: the contract’s 429 with the cooldown list and the seconds left', async () => {
    const h = harness({ router_settings: { allowed_fails: 1, cooldown_time: 5 } })
    const target = h.group('gpt-4o', deployment('a', {}, 'gpt-4o'), deployment('b', {}, 'gpt-4o'))
    h.fail('a', 500)
    h.fail('b', 500)
    await h.router.route(h.plan(target), h.attempt)
    await h.router.route(h.plan(target), h.attempt)
    h.clock.advance(1500)
    const error = await refusal(h.router.route(h.plan(target), h.attempt))
    expect(error.httpStatus).toBe(429)
    expect(error.errorType).toBe('rate_limit_error')
    expect(error.message).toBe(
      "No deployments available for selected model, Try again in 4 seconds. Passed model=gpt-4o. pre-call-checks=True, cooldown_list=['a', 'b']",
    )
    expect(error.headers).toEqual({ 'retry-after': '4' })
    expect(h.calls).toHaveLength(2)
    h.clock.advance(3500)
    expect(await h.router.route(h.plan(target), h.attempt)).toMatchObject({ ok: true })
  })

  test('a group with nothing available goes straight to its fallbacks', async () => {
    const h = harness({ router_settings: { allowed_fails: 1, fallbacks: [{ m: ['other'] }] } })
    const target = h.group('m', deployment('a'))
    h.group('other', deployment('o', {}, 'other'))
    h.fail('a', 500, 500)
    expect(await h.router.route(h.plan(target, { fallbacks: ['none'] }), h.attempt)).toMatchObject({ ok: false })
    expect(await h.router.route(h.plan(target), h.attempt)).toMatchObject({ ok: true, value: 'o', attemptedFallbacks: 1 })
    expect(h.calls.map((c) => c.id)).toEqual(['a', 'o'])
  })

  test('a deployment at its own rpm is skipped; its tokens count against its tpm when the request finishes', async () => {
    const h = harness({}, { random: sequence(0) })
    const target = h.group('m', deployment('a', { rpm: 1 }), deployment('b', { tpm: 100 }))
    const first = await h.router.route(h.plan(target), h.attempt)
    const second = await h.router.route(h.plan(target), h.attempt)
    expect([first.deployment.id, second.deployment.id]).toEqual(['a', 'b'])
    second.finish(100)
    const error = await refusal(h.router.route(h.plan(target), h.attempt))
    expect(error.message).toContain('Try again in 60 seconds')
    expect(error.message).toContain('cooldown_list=[]')
    h.clock.advance(60_000)
    expect((await h.router.route(h.plan(target), h.attempt)).deployment.id).toBe('a')
  })

  test('least-busy counts a request in flight until it finishes, and a failed attempt at once', async () => {
    const h = harness({ router_settings: { routing_strategy: 'least-busy', cooldown_time: 0 } })
    const target = h.group('m', deployment('a'), deployment('b'))
    const first = await h.router.route(h.plan(target), h.attempt)
    const second = await h.router.route(h.plan(target), h.attempt)
    expect([first.deployment.id, second.deployment.id]).toEqual(['a', 'b'])
    first.finish(0)
    first.finish(0)
    expect(h.router.inFlight(first.deployment)).toBe(0)
    h.fail('a', 400)
    await h.router.route(h.plan(target), h.attempt)
    expect(h.router.inFlight(first.deployment)).toBe(0)
    expect((await h.router.route(h.plan(target), h.attempt)).deployment.id).toBe('a')
  })

  test('tag routing leaving no deployment for the request is a 400', async () => {
    const h = harness({ router_settings: { enable_tag_filtering: true } })
    const target = h.group('m', deployment('a', { tags: ['paid'] }))
    const error = await refusal(h.router.route(h.plan(target, { tags: ['free'] }), h.attempt))
    expect(error.httpStatus).toBe(400)
    expect(error.message).toBe("Not allowed to access model due to tags configuration. Passed model=m and tags=['free']")
  })

  test('the attempt gets the timeout of its deployment and kind of call', async () => {
    const h = harness({ router_settings: { timeout: 30, stream_timeout: 3 } })
    const target = h.group('m', deployment('a', { timeout: 9 }))
    await h.router.route(h.plan(target), h.attempt)
    await h.router.route(h.plan(target, { stream: true }), h.attempt)
    expect(h.calls.map((c) => c.timeoutSeconds)).toEqual([9, 3])
  })
})
