/**
 * Routing through the whole gateway, against one fake upstream per deployment. Routing keeps no data in the
 * database, so these run on libSQL only. Backoff waits are recorded instead of slept.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { sqliteEngine } from '../../test/engines'
import { startFakeUpstream, type FakeUpstream } from '../../test/fake-upstream'
import { insertKey } from '../../test/fixtures'
import { startGateway, type TestGateway } from '../../test/gateway'
import { chat } from '../../test/proxy-gateway'
import { sequence } from '../../test/routing-fixtures'
import { seededRandom } from '../../test/spend-rows'
import { ManualClock } from '../lib/clock'
import { MemoryUsageSink } from '../usage/sink'

type Spec = { id: string; model?: string; params?: Record<string, unknown> }
type Options = { router_settings?: Record<string, unknown>; random?: () => number; apiBases?: Record<string, string> }

type Routed = {
  gateway: TestGateway
  clock: ManualClock
  usage: MemoryUsageSink
  waits: number[]
  upstream(id: string): FakeUpstream
  chat(body: unknown, options?: { key?: string; headers?: Record<string, string> }): ReturnType<TestGateway['call']>
  deploymentState(id: string): Promise<number | undefined>
}

const open: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of open.splice(0)) await close()
})

/** A gateway whose deployments (`model_info.id` = spec id) each have a fake upstream of their own. */
async function startRouted(specs: Spec[], options: Options = {}): Promise<Routed> {
  const upstreams = new Map<string, FakeUpstream>()
  for (const spec of specs) if (!options.apiBases?.[spec.id]) upstreams.set(spec.id, await startFakeUpstream())
  const usage = new MemoryUsageSink()
  const waits: number[] = []
  const clock = new ManualClock()
  const gateway = await startGateway(sqliteEngine, {
    clock,
    config: {
      model_list: specs.map((spec) => ({
        model_name: spec.model ?? 'm',
        litellm_params: {
          model: `openai/${spec.id}`,
          api_base: options.apiBases?.[spec.id] ?? upstreams.get(spec.id)!.openaiBase,
          input_cost_per_token: 1e-6,
          output_cost_per_token: 2e-6,
          ...spec.params,
        },
        model_info: { id: spec.id },
      })),
      router_settings: options.router_settings,
    },
    dataPlane: { usage, routing: { random: options.random ?? sequence(0), sleep: async (ms) => void waits.push(ms) } },
  })
  open.push(async () => {
    await gateway.close()
    for (const upstream of upstreams.values()) await upstream.stop()
  })
  return {
    gateway,
    clock,
    usage,
    waits,
    upstream: (id) => upstreams.get(id)!,
    chat: (body, callOptions = {}) => gateway.call('POST', '/v1/chat/completions', { body, ...callOptions }),
    async deploymentState(id) {
      const { values } = await gateway.context.metrics.deploymentState.get()
      return values.find((value) => value.labels.model_id === id)?.value
    },
  }
}

const served = (response: { headers: Headers }) => response.headers.get('x-litellm-model-id')
const attempts = (response: { headers: Headers }) => [
  response.headers.get('x-litellm-attempted-retries'),
  response.headers.get('x-litellm-attempted-fallbacks'),
]

function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
}

describe('load balancing', () => {
  test('simple-shuffle spreads 1,000 requests by weight, each share within 5 points of its weight', async () => {
    const routed = await startRouted(
      [
        { id: 'light', params: { weight: 1 } },
        { id: 'medium', params: { weight: 2 } },
        { id: 'heavy', params: { weight: 7 } },
      ],
      { random: seededRandom(7) },
    )
    const counts: Record<string, number> = { light: 0, medium: 0, heavy: 0 }
    for (let batch = 0; batch < 20; batch++) {
      const responses = await Promise.all(Array.from({ length: 50 }, () => routed.chat(chat('m'))))
      for (const response of responses) {
        expect(response.status).toBe(200)
        counts[served(response)!]++
      }
    }
    for (const [id, weight] of [
      ['light', 0.1],
      ['medium', 0.2],
      ['heavy', 0.7],
    ] as const) {
      expect(Math.abs(counts[id] / 1000 - weight)).toBeLessThanOrEqual(0.05)
      expect(routed.upstream(id).requests).toHaveLength(counts[id])
    }
  }, 20_000)

  test('least-busy sends a request to the deployment with fewer requests in flight', async () => {
    const routed = await startRouted([{ id: 'a' }, { id: 'b' }], { router_settings: { routing_strategy: 'least-busy' } })
    routed.upstream('a').enqueue({ kind: 'delay', ms: 100 })
    const slow = routed.chat(chat('m'))
    while (routed.upstream('a').requests.length === 0) await Bun.sleep(2)
    expect(served(await routed.chat(chat('m')))).toBe('b')
    expect(served(await slow)).toBe('a')
    // Both finished: a tie again, and the tie goes to the first.
    expect(served(await routed.chat(chat('m')))).toBe('a')
  })

  test('another routing_strategy is accepted with a warning at start-up and routes as simple-shuffle', async () => {
    const routed = await startRouted([{ id: 'a', params: { weight: 1 } }, { id: 'b', params: { weight: 3 } }], {
      router_settings: { routing_strategy: 'usage-based-routing-v2' },
      random: sequence(0.3),
    })
    expect(routed.gateway.log.lines.map((line) => line.message)).toContain(
      "config: router_settings.routing_strategy 'usage-based-routing-v2' is not supported; using simple-shuffle",
    )
    expect(served(await routed.chat(chat('m')))).toBe('b')
  })
})

describe('retries and fallbacks', () => {
  test('a 500 is retried on another deployment of the group; only the answering attempt is recorded and charged', async () => {
    const routed = await startRouted([{ id: 'a' }, { id: 'b', params: { input_cost_per_token: 1e-5 } }], { router_settings: { num_retries: 2 } })
    routed.upstream('a').defaultBehavior = { kind: 'error', status: 500 }
    const response = await routed.chat(chat('m'))
    expect(response.status).toBe(200)
    expect(served(response)).toBe('b')
    expect(attempts(response)).toEqual(['1', '0'])
    expect(routed.upstream('a').requests).toHaveLength(1)
    expect(routed.upstream('b').requests).toHaveLength(1)
    expect(routed.waits).toEqual([])
    expect(routed.usage.records).toHaveLength(1)
    expect(routed.usage.records[0]).toMatchObject({ status: 'success', deploymentId: 'b', attemptedRetries: 1, attemptedFallbacks: 0, cost: 10 * 1e-5 + 5 * 2e-6 })
  })

  test('a retry on the same deployment waits the backoff, or the upstream’s Retry-After up to 10 s', async () => {
    // No cooldowns here: three failures in a minute would otherwise rest the only deployment before its last retry.
    const routed = await startRouted([{ id: 'a' }], { router_settings: { num_retries: 3, cooldown_time: 0 } })
    routed.upstream('a').enqueue({ kind: 'error', status: 429, retryAfter: 3 }, { kind: 'error', status: 503 }, { kind: 'error', status: 429, retryAfter: 30 })
    const response = await routed.chat(chat('m'))
    expect(response.status).toBe(200)
    expect(attempts(response)).toEqual(['3', '0'])
    expect(routed.waits).toEqual([3000, 500, 10_000])
  })

  test('after the retries, a fallback model the principal may use answers; one it may not use is skipped', async () => {
    const routed = await startRouted([{ id: 'a', model: 'gpt-4' }, { id: 'cheap', model: 'gpt-3.5' }, { id: 'secret', model: 'secret' }], {
      router_settings: { num_retries: 1, cooldown_time: 0, fallbacks: [{ 'gpt-4': ['secret', 'gpt-3.5'] }] },
    })
    routed.upstream('a').defaultBehavior = { kind: 'error', status: 500 }
    const { key } = await insertKey(routed.gateway.store.repos, { models: ['gpt-4', 'gpt-3.5'] })
    const response = await routed.chat(chat('gpt-4'), { key })
    expect(response.status).toBe(200)
    expect(served(response)).toBe('cheap')
    expect(response.headers.get('x-litellm-model-group')).toBe('gpt-3.5')
    expect(attempts(response)).toEqual(['1', '1'])
    expect(routed.upstream('a').requests).toHaveLength(2)
    expect(routed.upstream('secret').requests).toHaveLength(0)
    expect(routed.upstream('cheap').requests[0].body.model).toBe('cheap')
    expect(routed.usage.records).toHaveLength(1)
    expect(routed.usage.records[0]).toMatchObject({ requestedModel: 'gpt-4', modelGroup: 'gpt-3.5', deploymentId: 'cheap', attemptedRetries: 1, attemptedFallbacks: 1 })

    // The client's own fallbacks replace the configured ones, and are access-checked the same way.
    const refused = await routed.chat(chat('gpt-4', { fallbacks: ['secret'] }), { key })
    expect(refused.status).toBe(500)
    expect(attempts(refused)).toEqual(['1', '0'])
    expect(served(refused)).toBe('a')
    expect(routed.upstream('secret').requests).toHaveLength(0)
    const allowed = await routed.chat(chat('gpt-4', { fallbacks: ['secret'] }))
    expect(served(allowed)).toBe('secret')
  })

  test('a context-length error goes to context_window_fallbacks, without retries', async () => {
    const routed = await startRouted([{ id: 'short', model: 'm' }, { id: 'long', model: 'm-long' }], {
      router_settings: { num_retries: 2, context_window_fallbacks: [{ m: ['m-long'] }] },
    })
    const message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."
    routed.upstream('short').enqueue({ kind: 'error', status: 400, body: { error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } })
    const response = await routed.chat(chat('m'))
    expect(response.status).toBe(200)
    expect(served(response)).toBe('long')
    expect(attempts(response)).toEqual(['0', '1'])
    expect(routed.upstream('short').requests).toHaveLength(1)
  })
})

describe('timeouts', () => {
  test('a deployment that does not answer within its timeout is retried elsewhere; nothing answering is a 408', async () => {
    const routed = await startRouted([{ id: 'a', params: { timeout: 0.05 } }, { id: 'b' }], { router_settings: { num_retries: 1, timeout: 0.05, cooldown_time: 0 } })
    routed.upstream('a').enqueue({ kind: 'hang' })
    const retried = await routed.chat(chat('m'))
    expect(retried.status).toBe(200)
    expect(served(retried)).toBe('b')
    expect(attempts(retried)).toEqual(['1', '0'])

    routed.upstream('a').enqueue({ kind: 'hang' })
    routed.upstream('b').enqueue({ kind: 'hang' })
    const timedOut = await routed.chat(chat('m'))
    expect(timedOut.status).toBe(408)
    expect(timedOut.body.error).toEqual({ message: 'Request timed out after 0.05 seconds (model=m)', type: 'timeout', param: null, code: 408 })
    expect(attempts(timedOut)).toEqual(['1', '0'])
    expect(routed.usage.records.at(-1)).toMatchObject({ status: 'failure', httpStatus: 408, attemptedRetries: 1, cost: 0 })
  })

  test('stream_timeout bounds a stream’s first byte — before or after the headers — and not a non-stream call', async () => {
    // An upstream that answers with headers at once and then never sends a byte.
    const silent = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      idleTimeout: 0,
      fetch: () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { headers: { 'content-type': 'text/event-stream' } }),
    })
    open.push(async () => void silent.stop(true))
    const routed = await startRouted([{ id: 'a' }, { id: 'silent', model: 'quiet' }], {
      router_settings: { stream_timeout: 0.05, timeout: 5 },
      apiBases: { silent: `http://127.0.0.1:${silent.port}/v1` },
    })
    routed.upstream('a').enqueue({ kind: 'delay', ms: 400 })
    const slowHeaders = await routed.chat(chat('m', { stream: true }))
    expect(slowHeaders.status).toBe(408)
    expect(slowHeaders.body.error.message).toBe('Request timed out after 0.05 seconds (model=m)')

    const started = performance.now()
    const noFirstByte = await routed.chat(chat('quiet', { stream: true }))
    expect(noFirstByte.status).toBe(408)
    expect(performance.now() - started).toBeLessThan(2000)

    routed.upstream('a').enqueue({ kind: 'delay', ms: 120 })
    expect((await routed.chat(chat('m'))).status).toBe(200)
  })
})

describe('cooldowns', () => {
  test('allowed_fails failures in a minute rest a deployment for cooldown_time; then it is used again', async () => {
    const routed = await startRouted([{ id: 'a' }, { id: 'b' }], { router_settings: { allowed_fails: 2, cooldown_time: 5 } })
    routed.upstream('a').defaultBehavior = { kind: 'error', status: 500 }
    expect((await routed.chat(chat('m'))).status).toBe(500)
    expect(await routed.deploymentState('a')).toBe(1)
    expect((await routed.chat(chat('m'))).status).toBe(500)
    expect(await routed.deploymentState('a')).toBe(2)
    // `a` would be picked (random 0), but it is resting.
    routed.clock.advance(4999)
    expect(served(await routed.chat(chat('m')))).toBe('b')
    expect(routed.upstream('a').requests).toHaveLength(2)
    routed.clock.advance(1)
    routed.upstream('a').defaultBehavior = null
    expect(served(await routed.chat(chat('m')))).toBe('a')
    expect(await routed.deploymentState('a')).toBe(0)
  })

  test('a request’s own failures can rest its only deployment: its retries stop there, with the upstream’s error', async () => {
    const routed = await startRouted([{ id: 'a' }], { router_settings: { num_retries: 5 } })
    routed.upstream('a').defaultBehavior = { kind: 'error', status: 500 }
    const failed = await routed.chat(chat('m'))
    expect(failed.status).toBe(500)
    expect(attempts(failed)).toEqual(['2', '0'])
    expect(routed.upstream('a').requests).toHaveLength(3)
    expect((await routed.chat(chat('m'))).status).toBe(429)
  })

  test('every deployment cooling down: 429 No deployments available, with Retry-After and nothing sent upstream', async () => {
    const routed = await startRouted(
      [
        { id: 'a', model: 'gpt-4o' },
        { id: 'b', model: 'gpt-4o' },
      ],
      { router_settings: { allowed_fails: 1, cooldown_time: 5 } },
    )
    routed.upstream('a').defaultBehavior = { kind: 'error', status: 503 }
    routed.upstream('b').defaultBehavior = { kind: 'error', status: 500 }
    await routed.chat(chat('gpt-4o'))
    await routed.chat(chat('gpt-4o'))
    routed.clock.advance(2000)
    const refused = await routed.chat(chat('gpt-4o'))
    expect(refused.status).toBe(429)
    expect(refused.body.error).toEqual({
      message:
        "No deployments available for selected model, Try again in 3 seconds. Passed model=gpt-4o. pre-call-checks=True, cooldown_list=['a', 'b']",
      type: 'rate_limit_error',
      param: null,
      code: 429,
    })
    expect(refused.headers.get('retry-after')).toBe('3')
    expect(routed.upstream('a').requests.length + routed.upstream('b').requests.length).toBe(2)
    expect(routed.usage.records).toHaveLength(2)
    routed.clock.advance(3000)
    expect((await routed.chat(chat('gpt-4o'))).status).toBe(503)
  })

  test('a deployment past its own rpm is skipped until its window has room', async () => {
    const routed = await startRouted([
      { id: 'a', params: { rpm: 1 } },
      { id: 'b', params: { rpm: 1 } },
    ])
    expect(served(await routed.chat(chat('m')))).toBe('a')
    expect(served(await routed.chat(chat('m')))).toBe('b')
    const refused = await routed.chat(chat('m'))
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toBe(
      'No deployments available for selected model, Try again in 60 seconds. Passed model=m. pre-call-checks=True, cooldown_list=[]',
    )
    routed.clock.advance(60_000)
    expect(served(await routed.chat(chat('m')))).toBe('a')
  })
})

describe('tag routing', () => {
  test('tagged deployments serve only requests with their tag; untagged requests go to default-tagged or untagged ones', async () => {
    const routed = await startRouted(
      [
        { id: 'paid', params: { tags: ['paid'] } },
        { id: 'default', params: { tags: ['default'] } },
        { id: 'plain' },
      ],
      { router_settings: { enable_tag_filtering: true }, random: seededRandom(3) },
    )
    const servedBy = async (headers: Record<string, string>, times = 12) => {
      const ids = new Set<string>()
      for (let i = 0; i < times; i++) ids.add(served(await routed.chat(chat('m'), { headers }))!)
      return [...ids].sort()
    }
    expect(await servedBy({ 'x-litellm-tags': 'paid' })).toEqual(['paid'])
    expect(await servedBy({})).toEqual(['default', 'plain'])
    expect(await servedBy({ 'x-litellm-tags': 'other' })).toEqual(['default', 'plain'])
  })
})

describe('streams', () => {
  test('no retry once a stream has started: the client gets the chunks, then the error event; one attempt', async () => {
    const routed = await startRouted([{ id: 'a' }, { id: 'b' }], { router_settings: { num_retries: 3 } })
    routed.upstream('a').enqueue({ kind: 'stream-error', afterChunks: 2, message: 'overloaded mid-stream' })
    const response = await routed.chat(chat('m', { stream: true }))
    expect(response.status).toBe(200)
    expect(attempts(response)).toEqual(['0', '0'])
    const events = sseEvents(response.text)
    expect(events.length).toBe(3)
    expect(JSON.parse(events.at(-1)!).error.message).toBe('overloaded mid-stream')
    expect(events).not.toContain('[DONE]')
    expect(routed.upstream('a').requests).toHaveLength(1)
    expect(routed.upstream('b').requests).toHaveLength(0)
    expect(routed.usage.records).toHaveLength(1)
    expect(routed.usage.records[0]).toMatchObject({ status: 'failure', attemptedRetries: 0, deploymentId: 'a' })
  })

  test('a stream that fails before its first byte is retried on another deployment', async () => {
    const routed = await startRouted([{ id: 'a' }, { id: 'b' }], { router_settings: { num_retries: 1 } })
    routed.upstream('a').enqueue({ kind: 'error', status: 502 })
    const response = await routed.chat(chat('m', { stream: true }))
    expect(response.status).toBe(200)
    expect(served(response)).toBe('b')
    expect(attempts(response)).toEqual(['1', '0'])
    expect(sseEvents(response.text).at(-1)).toBe('[DONE]')
    expect(routed.usage.records[0]).toMatchObject({ status: 'success', deploymentId: 'b', attemptedRetries: 1 })
  })
})
