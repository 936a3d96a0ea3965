import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { rateLimited, trackingStep } from '../../../test/admission-steps'
import { describeEachEngine } from '../../../test/engines'
import { MASTER_KEY } from '../../../test/gateway'
import { chat, startProxyGateway, type ProxyGateway } from '../../../test/proxy-gateway'

describeEachEngine('admission steps around a proxied request', (engine) => {
  let proxy: ProxyGateway
  let tracking: ReturnType<typeof trackingStep>
  const send = (body: unknown) => proxy.gateway.call('POST', '/v1/chat/completions', { body })

  /** The one release of the only request sent since the last reset, once it happened. */
  async function onlyRelease() {
    await proxy.usage.waitFor(1)
    await Bun.sleep(20)
    expect(tracking.admitted).toHaveLength(1)
    expect(tracking.released).toHaveLength(1)
    expect(tracking.released[0].requestId).toBe(tracking.admitted[0].requestId)
    expect(tracking.released[0].record).toBe(proxy.usage.records[0])
    return tracking.released[0].record!
  }

  beforeAll(async () => {
    proxy = await startProxyGateway(engine, { config: { router_settings: { timeout: 0.3 } } })
    tracking = trackingStep({ hold: { headers: { 'x-ratelimit-limit-requests': '100' }, bodyOverrides: { max_tokens: 17 } } })
    proxy.gateway.context.dataPlane.admission.register(tracking.step)
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    proxy.upstream.reset()
    proxy.usage.records.length = 0
    tracking.admitted.length = 0
    tracking.released.length = 0
  })

  test('a step sees the resolved request, and its headers and body overrides reach the response and the upstream', async () => {
    const response = await send(chat('gpt4', { user: 'c-1', max_tokens: 500 }))
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('100')
    expect(proxy.upstream.requests[0].body.max_tokens).toBe(17)
    expect(tracking.admitted[0]).toMatchObject({ requestedModel: 'gpt4', endUser: 'c-1', callType: 'acompletion', route: '/v1/chat/completions', stream: false })
    expect(tracking.admitted[0].target.modelGroup).toBe('gpt-4o')
    expect((await onlyRelease()).status).toBe('success')
  })

  test('released once after a streamed success', async () => {
    await send(chat('gpt-4o', { stream: true }))
    expect((await onlyRelease()).status).toBe('success')
  })

  test('released once after an upstream error', async () => {
    proxy.upstream.enqueue({ kind: 'error', status: 500 })
    expect((await send(chat('gpt-4o'))).status).toBe(500)
    expect((await onlyRelease()).status).toBe('failure')
  })

  test('released once after a timeout', async () => {
    proxy.upstream.enqueue({ kind: 'hang' })
    expect((await send(chat('gpt-4o'))).status).toBe(408)
    expect((await onlyRelease()).error?.type).toBe('timeout')
  })

  test('released once after an error inside a stream and after an upstream disconnect mid-stream', async () => {
    proxy.upstream.enqueue({ kind: 'stream-error', afterChunks: 2 })
    await send(chat('gpt-4o', { stream: true }))
    expect((await onlyRelease()).status).toBe('failure')
    tracking.admitted.length = tracking.released.length = proxy.usage.records.length = 0
    proxy.upstream.enqueue({ kind: 'disconnect', afterChunks: 2 })
    await send(chat('gpt-4o', { stream: true }))
    expect((await onlyRelease()).status).toBe('failure')
  })

  test('released once after the client disconnects mid-stream', async () => {
    proxy.upstream.chunkDelayMs = 30
    const response = await proxy.gateway.app.handle(
      new Request('http://localhost/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}` },
        body: JSON.stringify(chat('gpt-4o', { stream: true })),
      }),
    )
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    expect((await onlyRelease()).status).toBe('client_disconnected')
  })

  test('released once when the client goes away before the stream starts', async () => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => proxy.gateway.app.handle(request) })
    try {
      proxy.upstream.enqueue({ kind: 'hang' })
      const controller = new AbortController()
      const pending = fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}` },
        body: JSON.stringify(chat('gpt-4o', { stream: true })),
        signal: controller.signal,
      }).catch(() => null)
      while (proxy.upstream.requests.length === 0) await Bun.sleep(5)
      controller.abort()
      await pending
      const record = await onlyRelease()
      expect(record.status).toBe('client_disconnected')
      expect(proxy.upstream.requests[0].aborted).toBe(true)
    } finally {
      await server.stop(true)
    }
  })

  test("a later step's refusal is answered, releases the earlier hold with no record, and calls no upstream", async () => {
    const refusing = await startProxyGateway(engine)
    const steps = trackingStep()
    refusing.gateway.context.dataPlane.admission.register(rateLimited())
    refusing.gateway.context.dataPlane.admission.register(steps.step)
    try {
      const response = await refusing.gateway.call('POST', '/v1/chat/completions', { body: chat('gpt-4o') })
      expect(response.status).toBe(429)
      expect(response.headers.get('retry-after')).toBe('1')
      expect(response.body.error.type).toBe('rate_limit_error')
      expect(steps.released).toEqual([{ requestId: steps.admitted[0].requestId, record: null }])
      expect(refusing.upstream.requests).toHaveLength(0)
      expect(refusing.usage.records).toHaveLength(0)
    } finally {
      await refusing.close()
    }
  })
})
