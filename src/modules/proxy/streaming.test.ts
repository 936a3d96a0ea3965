import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { describeEachEngine, sqliteEngine } from '../../../test/engines'
import { MASTER_KEY } from '../../../test/gateway'
import { chat, startProxyGateway, withScriptedUpstream, type ProxyGateway } from '../../../test/proxy-gateway'

/** The `data:` payloads (and comments) of an SSE body, in order. */
function events(text: string): string[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => (frame.startsWith('data: ') ? frame.slice(6) : frame))
}

const streamRequest = (body: unknown) =>
  new Request('http://localhost/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function readSome(response: Response, frames: number) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (text.split('\n\n').length <= frames) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  return { reader, text }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

/** An upstream handler answering every request with the given SSE frames. */
const sse = (frames: readonly string[]) => () => new Response(frames.join(''), { headers: { 'content-type': 'text/event-stream' } })

describeEachEngine('streaming', (engine) => {
  let proxy: ProxyGateway
  const stream = (body: unknown) => proxy.gateway.call('POST', '/v1/chat/completions', { body })

  beforeAll(async () => {
    proxy = await startProxyGateway(engine, { dataPlane: { streamKeepaliveMs: 40 } })
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    proxy.upstream.reset()
    proxy.usage.records.length = 0
  })

  test('a stream is relayed as it arrives; the usage chunk Tollgate asked for is removed and recorded', async () => {
    proxy.upstream.chunkDelayMs = 60
    const response = await proxy.gateway.app.handle(streamRequest(chat('gpt-4o', { stream: true })))
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('x-litellm-call-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('x-litellm-model-id')).toBe('gpt-4o-deployment')
    expect(response.headers.has('x-litellm-response-cost')).toBe(false)
    // The first chunk reaches the client while the upstream is still generating: nothing is buffered.
    const { reader, text: first } = await readSome(response, 1)
    expect(first).toContain('"role":"assistant"')
    expect(proxy.upstream.inFlight()).toBe(1)
    let rest = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    const frames = events(first + rest)
    expect(frames.at(-1)).toBe('[DONE]')
    expect(frames.filter((f) => f.startsWith('{')).every((f) => !('usage' in JSON.parse(f)))).toBe(true)
    const content = frames.filter((f) => f.startsWith('{')).map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '').join('')
    expect(content).toBe('Hello from the fake upstream')
    expect(proxy.upstream.requests[0].body.stream_options).toEqual({ include_usage: true })
    await proxy.usage.waitFor(1)
    expect(proxy.usage.records[0]).toMatchObject({
      stream: true,
      status: 'success',
      promptTokens: 10,
      completionTokens: 5,
      usageEstimated: false,
      cost: 10 * 0.0000025 + 5 * 0.00001,
      responseId: expect.stringMatching(/^chatcmpl-fake/),
    })
    expect(proxy.usage.records[0].completionStartTime).not.toBeNull()
  })

  test('a client that asked for usage gets the usage chunk, with its cost', async () => {
    const response = await stream(chat('gpt-4o', { stream: true, stream_options: { include_usage: true } }))
    const frames = events(response.text)
    const usageChunk = JSON.parse(frames.at(-2)!)
    expect(usageChunk.choices).toEqual([])
    expect(usageChunk.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 10 * 0.0000025 + 5 * 0.00001 })
    expect(frames.at(-1)).toBe('[DONE]')
    expect(proxy.upstream.requests[0].body.stream_options).toEqual({ include_usage: true })
    expect(proxy.usage.records).toHaveLength(1)
  })

  test('usage on ordinary chunks is removed too when the client did not ask for it', async () => {
    const chunk = (extra: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', ...extra })}\n\n`
    const frames = [
      chunk({ choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }], usage: null }),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 } }),
      'data: [DONE]\n\n',
    ]
    await withScriptedUpstream(engine, sse(frames), async (scripted) => {
      const response = await scripted.gateway.call('POST', '/v1/chat/completions', { body: chat('m', { stream: true }) })
      const received = events(response.text)
      expect(received).toHaveLength(3)
      expect(received.slice(0, 2).map((f) => 'usage' in JSON.parse(f))).toEqual([false, false])
      expect(JSON.parse(received[1]).choices[0].finish_reason).toBe('stop')
      expect(scripted.usage.records[0]).toMatchObject({ promptTokens: 4, completionTokens: 1, status: 'success' })
    })
  })

  test('a stream that ends without [DONE] is completed after a finish reason, and an error without one', async () => {
    const chunk = (finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: finish }] })}\n\n`
    for (const [frames, expected] of [
      [[chunk(null), chunk('stop')], 'success'],
      [[chunk(null)], 'failure'],
    ] as const) {
      await withScriptedUpstream(engine, sse(frames), async (scripted) => {
        const response = await scripted.gateway.call('POST', '/v1/chat/completions', { body: chat('m', { stream: true }) })
        const last = events(response.text).at(-1)!
        if (expected === 'success') expect(last).toBe('[DONE]')
        else expect(JSON.parse(last).error.type).toBe('upstream_error')
        expect(scripted.usage.records.map((r) => r.status)).toEqual([expected])
        expect(scripted.usage.records[0].usageEstimated).toBe(true)
      })
    }
  })

  test('an upstream without stream usage gets an estimate, flagged', async () => {
    proxy.upstream.enqueue({ kind: 'no-usage' })
    await stream(chat('gpt-4o', { stream: true }))
    expect(proxy.usage.records[0]).toMatchObject({ status: 'success', usageEstimated: true })
    expect(proxy.usage.records[0].completionTokens).toBeGreaterThanOrEqual(5)
  })

  test('upstream silence is filled with keep-alive comments', async () => {
    proxy.upstream.chunkDelayMs = 150
    const response = await stream(chat('gpt-4o', { stream: true }))
    expect(response.text).toContain(': keepalive\n\n')
    expect(events(response.text).at(-1)).toBe('[DONE]')
  })

  test('an error event inside a stream reaches the client as an error, without [DONE], and is recorded as a failure', async () => {
    proxy.upstream.enqueue({ kind: 'stream-error', afterChunks: 3, message: 'model overloaded' })
    const response = await stream(chat('gpt-4o', { stream: true }))
    expect(response.status).toBe(200)
    const frames = events(response.text)
    expect(frames).not.toContain('[DONE]')
    expect(JSON.parse(frames.at(-1)!)).toEqual({ error: { message: 'model overloaded', type: 'server_error', param: null, code: null } })
    expect(frames.filter((f) => f.startsWith('{"id"'))).toHaveLength(3)
    expect(proxy.usage.records).toHaveLength(1)
    expect(proxy.usage.records[0]).toMatchObject({ status: 'failure', cost: 0, httpStatus: 200, error: { message: 'model overloaded', type: 'server_error' } })
  })

  test('an upstream that disconnects mid-stream gives the client an error event and a failure record', async () => {
    proxy.upstream.enqueue({ kind: 'disconnect', afterChunks: 2 })
    const response = await stream(chat('gpt-4o', { stream: true }))
    const frames = events(response.text)
    expect(frames).not.toContain('[DONE]')
    expect(JSON.parse(frames.at(-1)!).error).toMatchObject({ type: 'upstream_connection_error', code: 502 })
    expect(proxy.usage.records).toHaveLength(1)
    expect(proxy.usage.records[0]).toMatchObject({ status: 'failure', error: { type: 'upstream_connection_error', status: 502 } })
  })

  test('a client that disconnects mid-stream aborts the upstream; one record holds the tokens generated so far', async () => {
    proxy.upstream.chunkDelayMs = 30
    const response = await proxy.gateway.app.handle(streamRequest(chat('gpt-4o', { stream: true })))
    const { reader, text } = await readSome(response, 3)
    await reader.cancel()
    await until(() => proxy.upstream.requests[0].aborted, 'the upstream request to be aborted')
    await proxy.usage.waitFor(1)
    await Bun.sleep(100)
    expect(proxy.usage.records).toHaveLength(1)
    const record = proxy.usage.records[0]
    const received = events(text).filter((f) => f.startsWith('{')).map((f) => JSON.parse(f).choices[0].delta.content).filter(Boolean)
    expect(record).toMatchObject({ status: 'client_disconnected', usageEstimated: true })
    expect(record.completionTokens).toBeGreaterThanOrEqual(received.length)
    expect(record.completionTokens).toBeLessThan(5)
    expect(record.promptTokens).toBeGreaterThan(0)
    expect(record.cost).toBe(record.promptTokens * 0.0000025 + record.completionTokens * 0.00001)
    expect(proxy.upstream.inFlight()).toBe(0)
  })

  test('over real HTTP, a client that goes away mid-stream aborts the upstream and is recorded once', async () => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => proxy.gateway.app.handle(request) })
    proxy.gateway.context.server.attach(server)
    try {
      proxy.upstream.chunkDelayMs = 30
      const controller = new AbortController()
      const response = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}` },
        body: JSON.stringify(chat('gpt-4o', { stream: true })),
        signal: controller.signal,
      })
      await readSome(response, 2)
      controller.abort()
      await until(() => proxy.upstream.requests[0]?.aborted === true, 'the upstream request to be aborted')
      await proxy.usage.waitFor(1)
      await Bun.sleep(50)
      expect(proxy.usage.records.map((r) => r.status)).toEqual(['client_disconnected'])
      expect(proxy.usage.records[0].requesterIp).toBe('127.0.0.1')
    } finally {
      await server.stop(true)
    }
  })
})

describe('a slow stream over real HTTP', () => {
  test("outlives the server's idle timeout (the proxy lifts it per request)", async () => {
    const encoder = new TextEncoder()
    const chunk = (content: string, finish: string | null) =>
      encoder.encode(`data: ${JSON.stringify({ id: 'slow', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`)
    const slowStream = () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(chunk('slow ', null))
            await Bun.sleep(4500) // Bun closes connections idle for `idleTimeout` with a granularity of ~4 s
            controller.enqueue(chunk('model', 'stop'))
            controller.enqueue(encoder.encode('data: [DONE]\n\n'))
            controller.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    const noKeepalive = { streamKeepaliveMs: 60_000 }
    await withScriptedUpstream(sqliteEngine, slowStream, async (proxy) => {
      const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 1, fetch: (request) => proxy.gateway.app.handle(request) })
      proxy.gateway.context.server.attach(server)
      try {
        const response = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER_KEY}` },
          body: JSON.stringify(chat('m', { stream: true })),
        })
        expect(events(await response.text()).at(-1)).toBe('[DONE]')
        expect(proxy.usage.records.map((r) => r.status)).toEqual(['success'])
      } finally {
        await server.stop(true)
      }
    }, noKeepalive)
  }, 15_000)
})
