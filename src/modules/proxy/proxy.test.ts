import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { MASTER_KEY } from '../../../test/gateway'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import type { Server } from 'bun'
import { chat, startProxyGateway, UPSTREAM_KEY, withScriptedUpstream, type ProxyGateway } from '../../../test/proxy-gateway'
import { pythonFloat } from '../../lib/python-float'
import { sha256Hex } from '../../lib/secrets'

describeEachEngine('the OpenAI-compatible routes', (engine) => {
  let proxy: ProxyGateway
  let teamKey: string
  const call = (path: string, body: unknown, options: { key?: string | null; headers?: Record<string, string> } = {}) =>
    proxy.gateway.call('POST', path, { body, key: options.key === undefined ? teamKey : options.key, headers: options.headers })

  beforeAll(async () => {
    // Failures are scripted one after another on one deployment here; cooldowns have their own suite (routing).
    proxy = await startProxyGateway(engine, { config: { router_settings: { timeout: 0.3, cooldown_time: 0 } } })
    const { repos } = proxy.gateway.store
    const user = await insertUser(repos, { userId: 'user-a' })
    await insertTeam(repos, {
      teamId: 'team-a',
      teamAlias: 'Team A',
      models: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small', 'openai/*'],
      metadata: { tags: ['team-tag'], spend_logs_metadata: { cost_center: 'team', owner: 'team' } },
    })
    await repos.memberships.insert({ userId: user.userId, teamId: 'team-a', role: 'user' })
    teamKey = (
      await insertKey(repos, {
        teamId: 'team-a',
        userId: 'user-a',
        keyAlias: 'team-key',
        maxBudget: 10,
        tpmLimit: 1000,
        rpmLimit: 50,
        metadata: { tags: ['key-tag'], spend_logs_metadata: { owner: 'key' } },
      })
    ).key
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    proxy.upstream.reset()
    proxy.usage.records.length = 0
  })

  test('chat, legacy completions and embeddings answer at both paths with the upstream key, not the client one', async () => {
    for (const [path, body, upstreamPath] of [
      ['/v1/chat/completions', chat('gpt-4o'), '/v1/chat/completions'],
      ['/chat/completions', chat('gpt-4o'), '/v1/chat/completions'],
      ['/v1/completions', { model: 'gpt-4o-mini', prompt: 'Say hi' }, '/v1/completions'],
      ['/completions', { model: 'gpt-4o-mini', prompt: ['a', 'b'] }, '/v1/completions'],
      ['/v1/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'] }, '/v1/embeddings'],
      ['/embeddings', { model: 'text-embedding-3-small', input: 'a' }, '/v1/embeddings'],
    ] as const) {
      const response = await call(path, body)
      expect(response.status).toBe(200)
      const received = proxy.upstream.requests.at(-1)!
      expect(received.path).toBe(upstreamPath)
      expect(received.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    }
    expect(proxy.usage.records.map((r) => r.callType)).toEqual(['acompletion', 'acompletion', 'atext_completion', 'atext_completion', 'aembedding', 'aembedding'])
    const embedding = await call('/v1/embeddings', { model: 'text-embedding-3-small', input: ['x', 'y', 'z'] })
    expect(embedding.body.data).toHaveLength(3)
    expect(proxy.usage.records.at(-1)).toMatchObject({ promptTokens: 10, completionTokens: 0, cost: 10 * 2e-8 })
  })

  test('fields Tollgate does not consume are forwarded unchanged; metadata, litellm_metadata, fallbacks and tags are not', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ]
    const body = {
      model: 'gpt-4o',
      messages,
      tools,
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      n: 2,
      seed: 7,
      logprobs: true,
      temperature: 0.2,
      user: 'end-user-1',
      metadata: { tags: ['m'] },
      litellm_metadata: { x: 1 },
      fallbacks: ['gpt-4o-mini'],
      tags: ['t'],
    }
    expect((await call('/v1/chat/completions', body)).status).toBe(200)
    const forwarded = proxy.upstream.requests[0].body
    const { metadata: _m, litellm_metadata: _l, fallbacks: _f, tags: _t, ...expected } = body
    expect(forwarded).toEqual(expected)
  })

  test('the response carries the call id, model group, deployment, cost, key limits, durations and upstream rate-limit headers', async () => {
    const response = await call('/v1/chat/completions', chat('gpt-4o'))
    const record = proxy.usage.records[0]
    const h = response.headers
    expect(h.get('x-litellm-call-id')).toBe(record.requestId)
    expect(record.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(h.get('x-litellm-model-group')).toBe('gpt-4o')
    expect(h.get('x-litellm-model-id')).toBe('gpt-4o-deployment')
    expect(h.get('x-litellm-response-cost')).toBe(pythonFloat(10 * 0.0000025 + 5 * 0.00001))
    expect(h.get('x-litellm-key-spend')).toBe('0.0')
    expect(h.get('x-litellm-key-max-budget')).toBe('10.0')
    expect(h.get('x-litellm-key-tpm-limit')).toBe('1000')
    expect(h.get('x-litellm-key-rpm-limit')).toBe('50')
    expect(h.get('x-litellm-attempted-retries')).toBe('0')
    expect(h.get('x-litellm-attempted-fallbacks')).toBe('0')
    expect(Number(h.get('x-litellm-response-duration-ms'))).toBeGreaterThan(0)
    expect(Number(h.get('x-litellm-overhead-duration-ms'))).toBeGreaterThanOrEqual(0)
    expect(h.get('x-litellm-response-duration-ms')).toMatch(/^\d+\.\d+$/)
    expect(h.get('llm_provider-x-ratelimit-limit-requests')).toBe('10000')
    expect(h.get('llm_provider-x-ratelimit-remaining-tokens')).toBe('999000')
    expect(h.get('content-type')).toBe('application/json')
    expect(response.body.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
  })

  test('every finished request yields one usage record: who, which model, tokens, cost, status and timings', async () => {
    await call('/v1/chat/completions', chat('gpt4', { user: 'customer-7', metadata: { tags: ['req-tag'], spend_logs_metadata: { owner: 'request' } }, litellm_metadata: { tags: ['lm-tag'] }, tags: ['body-tag'] }), {
      headers: { 'x-litellm-tags': 'header-tag, key-tag' },
    })
    expect(proxy.usage.records).toHaveLength(1)
    const record = proxy.usage.records[0]
    expect(record).toMatchObject({
      callType: 'acompletion',
      stream: false,
      keyHash: sha256Hex(teamKey),
      keyAlias: 'team-key',
      userId: 'user-a',
      teamId: 'team-a',
      teamAlias: 'Team A',
      organizationId: null,
      endUser: 'customer-7',
      tags: ['key-tag', 'team-tag', 'req-tag', 'lm-tag', 'body-tag', 'header-tag'],
      requestedModel: 'gpt4',
      modelGroup: 'gpt-4o',
      model: 'gpt-4o',
      deploymentId: 'gpt-4o-deployment',
      provider: 'openai',
      apiBase: proxy.upstream.openaiBase,
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
      usageEstimated: false,
      cost: 10 * 0.0000025 + 5 * 0.00001,
      priced: true,
      status: 'success',
      httpStatus: 200,
      error: null,
      spendLogsMetadata: { cost_center: 'team', owner: 'request' },
      attemptedRetries: 0,
    })
    expect(record.responseId).toStartWith('chatcmpl-fake')
    expect(record.startTime.getTime()).toBe(proxy.gateway.clock.now())
    expect(proxy.upstream.requests[0].body.user).toBe('customer-7')
  })

  test('an upstream answer without usage is estimated and flagged', async () => {
    proxy.upstream.enqueue({ kind: 'no-usage' })
    await call('/v1/chat/completions', chat('gpt-4o'))
    const record = proxy.usage.records[0]
    expect(record.usageEstimated).toBe(true)
    expect(record.promptTokens).toBeGreaterThan(3)
    expect(record.completionTokens).toBeGreaterThanOrEqual(5)
    expect(record.cost).toBe(record.promptTokens * 0.0000025 + record.completionTokens * 0.00001)
  })

  test('bad input gets the contract 4xx in the envelope, with no upstream call and no usage record', async () => {
    const cases: Array<[string, unknown, number, Record<string, unknown>]> = [
      ['/v1/chat/completions', '{"model": "gpt-4o", "messages": [', 400, { type: 'invalid_request_error' }],
      ['/v1/chat/completions', [1, 2], 422, { type: 'validation_error', message: 'body: the request body must be a JSON object' }],
      ['/v1/chat/completions', { messages: [] }, 422, { message: 'model: field required', param: 'model' }],
      ['/v1/chat/completions', { model: 5, messages: [] }, 422, { message: 'model: expected string', param: 'model' }],
      ['/v1/chat/completions', { model: 'gpt-4o' }, 422, { message: 'messages: field required', param: 'messages' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: 'hi' }, 422, { message: 'messages: expected array' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: ['hi'] }, 422, { message: 'messages[0]: expected object', param: 'messages[0]' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ content: 'hi' }] }, 422, { message: 'messages[0].role: field required' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 3 }] }, 422, { message: 'messages[0].content: expected string, array or null' }],
      ['/v1/chat/completions', chat('gpt-4o', { stream: 'yes' }), 422, { message: 'stream: expected boolean' }],
      ['/v1/chat/completions', chat('gpt-4o', { tags: 'x' }), 422, { message: 'tags: expected array of strings' }],
      ['/v1/completions', { model: 'gpt-4o-mini' }, 422, { message: 'prompt: field required' }],
      ['/v1/embeddings', { model: 'text-embedding-3-small' }, 422, { message: 'input: field required' }],
      ['/v1/chat/completions', chat('gpt-4o', { api_base: 'http://evil.example' }), 400, { type: 'invalid_request_error', message: "Parameter 'api_base' is not allowed", param: 'api_base' }],
      ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x', extra: { deep: [{ api_key: 'sk-mine' }] } }] }, 400, { message: "Parameter 'api_key' is not allowed" }],
      ['/v1/chat/completions', chat('gpt-4o', { extra_body: { base_url: 'http://x' } }), 400, { message: "Parameter 'base_url' is not allowed" }],
      ['/v1/chat/completions', chat('gpt-4o', { custom_llm_provider: 'azure' }), 400, { message: "Parameter 'custom_llm_provider' is not allowed" }],
      ['/v1/embeddings', { model: 'text-embedding-3-small', input: 'x', extra_headers: { a: 'b' } }, 400, { message: "Parameter 'extra_headers' is not allowed" }],
      ['/v1/completions', { model: 'gpt-4o-mini', prompt: 'x', api_version: '1' }, 400, { message: "Parameter 'api_version' is not allowed" }],
    ]
    for (const [path, body, status, error] of cases) {
      const response = await call(path, body)
      expect({ body, status: response.status }).toEqual({ body, status })
      expect(response.body.error).toMatchObject({ ...error, code: status })
    }
    expect((await call('/v1/chat/completions', '{bad')).body.error.message).toStartWith('Invalid JSON in request body: ')
    // Unknown names are checked after access (§6.2 step 3): a caller without model lists gets the 400.
    for (const path of ['/v1/chat/completions', '/chat/completions']) {
      const unknown = await call(path, chat('nope'), { key: MASTER_KEY })
      expect(unknown.body.error).toEqual({
        message: `${path}: Invalid model name passed in model=nope. Call \`/v1/models\` to view available models for your key.`,
        type: 'invalid_request_error',
        param: 'model',
        code: 400,
      })
    }
    expect(proxy.upstream.requests).toHaveLength(0)
    expect(proxy.usage.records).toHaveLength(0)
  })

  test('the credential is checked before the body is read', async () => {
    const response = await call('/v1/chat/completions', '{not json', { key: null })
    expect(response.status).toBe(401)
    expect(response.body.error.message).toBe('No api key passed in.')
  })

  test('a wildcard deployment serves openai/<name> as upstream model <name>', async () => {
    // gpt-5-preview has no price: served (at 0) to an unbudgeted caller, refused for the team key with its cap (§6.4).
    const refused = await call('/v1/chat/completions', chat('openai/gpt-5-preview'))
    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toBe(
      'Model openai/gpt-5-preview has no price configured (input_cost_per_token/output_cost_per_token); refusing because a budget applies',
    )
    expect(proxy.upstream.requests).toHaveLength(0)
    const response = await call('/v1/chat/completions', chat('openai/gpt-5-preview'), { key: MASTER_KEY })
    expect(response.status).toBe(200)
    expect(proxy.upstream.requests[0].body.model).toBe('gpt-5-preview')
    expect(response.headers.get('x-litellm-model-group')).toBe('openai/gpt-5-preview')
    expect(proxy.usage.records[0]).toMatchObject({ modelGroup: 'openai/gpt-5-preview', model: 'gpt-5-preview', priced: false, cost: 0 })
  })

  test('upstream errors keep their status and OpenAI body, and are recorded as failures that cost nothing', async () => {
    proxy.upstream.enqueue({ kind: 'error', status: 429, retryAfter: 3, message: 'slow down' })
    const limited = await call('/v1/chat/completions', chat('gpt-4o'))
    expect(limited.status).toBe(429)
    expect(limited.body).toEqual({ error: { message: 'slow down', type: 'rate_limit_exceeded', param: null, code: 'rate_limit_exceeded' } })
    expect(limited.headers.get('retry-after')).toBe('3')
    expect(limited.headers.get('x-litellm-call-id')).toBe(proxy.usage.records[0].requestId)
    proxy.upstream.enqueue({ kind: 'error', status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } })
    const failed = await call('/v1/chat/completions', chat('gpt-4o'))
    expect(failed.status).toBe(500)
    expect(failed.body.error.message).toBe('boom')
    proxy.upstream.enqueue({ kind: 'error', status: 503, body: 'upstream is down' })
    const wrapped = await call('/v1/chat/completions', chat('gpt-4o'))
    expect(wrapped.status).toBe(503)
    expect(wrapped.body.error).toMatchObject({ message: 'upstream is down', code: 503 })
    expect(proxy.usage.records.map((r) => [r.status, r.httpStatus, r.cost, r.error?.status])).toEqual([
      ['failure', 429, 0, 429],
      ['failure', 500, 0, 500],
      ['failure', 503, 0, 503],
    ])
    expect(proxy.usage.records[0].error).toMatchObject({ type: 'rate_limit_exceeded', message: 'slow down' })
  })

  test('an upstream 401 or 403 becomes 502 upstream_auth_error, and the upstream key appears nowhere', async () => {
    for (const status of [401, 403]) {
      proxy.upstream.enqueue({ kind: 'error', status, message: `Incorrect API key provided: ${UPSTREAM_KEY}` })
      const response = await call('/v1/chat/completions', chat('gpt-4o'))
      expect(response.status).toBe(502)
      expect(response.body.error).toMatchObject({ type: 'upstream_auth_error', code: 502 })
      expect(response.text).not.toContain(UPSTREAM_KEY)
    }
    proxy.upstream.enqueue({ kind: 'error', status: 400, message: `bad request for key ${UPSTREAM_KEY}` })
    const echoed = await call('/v1/chat/completions', chat('gpt-4o'))
    expect(echoed.status).toBe(400)
    expect(echoed.text).not.toContain(UPSTREAM_KEY)
    expect(echoed.body.error.message).toBe('bad request for key ****')
    expect(JSON.stringify(proxy.usage.records)).not.toContain(UPSTREAM_KEY)
    expect(JSON.stringify(proxy.gateway.log.lines)).not.toContain(UPSTREAM_KEY)
    const info = await proxy.gateway.call('GET', '/model/info')
    expect(info.text).not.toContain(UPSTREAM_KEY)
  })

  test('an upstream that does not answer within the timeout gives 408 and a failure record', async () => {
    proxy.upstream.enqueue({ kind: 'hang' })
    const response = await call('/v1/chat/completions', chat('gpt-4o'))
    expect(response.status).toBe(408)
    expect(response.body.error).toEqual({ message: 'Request timed out after 0.3 seconds (model=gpt-4o)', type: 'timeout', param: null, code: 408 })
    expect(proxy.usage.records[0]).toMatchObject({ status: 'failure', httpStatus: 408, cost: 0, error: { type: 'timeout' } })
  })

  test('an upstream that cannot be reached gives 502 upstream_connection_error', async () => {
    const gateway = await startProxyGateway(engine, {
      config: { model_list: [{ model_name: 'dead', litellm_params: { model: 'openai/dead', api_base: 'http://127.0.0.1:1/v1', api_key: 'x' } }] },
    })
    try {
      const response = await gateway.gateway.call('POST', '/v1/chat/completions', { body: chat('dead') })
      expect(response.status).toBe(502)
      expect(response.body.error.type).toBe('upstream_connection_error')
      expect(response.text).not.toContain('127.0.0.1:1')
      expect(gateway.usage.records[0]).toMatchObject({ status: 'failure', httpStatus: 502 })
    } finally {
      await gateway.close()
    }
  })

  test('upstream connections are reused across requests', async () => {
    const ports = new Set<number>()
    const body = JSON.stringify({ id: 'r', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    const answer = (request: Request, server: Server<undefined>) => {
      ports.add(server.requestIP(request)!.port)
      return new Response(body, { headers: { 'content-type': 'application/json' } })
    }
    await withScriptedUpstream(engine, answer, async (reused) => {
      for (let i = 0; i < 20; i++) expect((await reused.gateway.call('POST', '/v1/chat/completions', { body: chat('m') })).status).toBe(200)
      expect(ports.size).toBe(1)
    })
  })

  test('a 200 from the upstream that is not a valid response becomes a 502 failure', async () => {
    await withScriptedUpstream(engine, () => new Response('<html>maintenance</html>'), async (broken) => {
      const response = await broken.gateway.call('POST', '/v1/chat/completions', { body: chat('m') })
      expect(response.status).toBe(502)
      expect(response.body.error).toMatchObject({ message: 'The upstream answered with a body that is not a valid response (model=m)', type: 'upstream_error' })
      expect(broken.usage.records.map((r) => [r.status, r.httpStatus])).toEqual([['failure', 502]])
    })
  })

  test('a blocked end user is refused with 403 before the upstream is called', async () => {
    await proxy.gateway.store.repos.endUsers.insert({ userId: 'blocked-customer', blocked: true, metadata: {} })
    const response = await call('/v1/chat/completions', chat('gpt-4o', { user: 'blocked-customer' }))
    expect(response.status).toBe(403)
    expect(response.body.error).toEqual({
      message: "End User=blocked-customer is blocked. Update via `/customer/unblock` if you're an admin.",
      type: 'auth_error',
      param: null,
      code: 403,
    })
    expect(proxy.upstream.requests).toHaveLength(0)
  })

  test('an oversize body is refused with 413, from Content-Length and while reading', async () => {
    const small = await startProxyGateway(engine, { config: { general_settings: { max_request_size_mb: 0.001 } } })
    try {
      const big = JSON.stringify(chat('gpt-4o', { padding: 'x'.repeat(2000) }))
      const declared = await small.gateway.call('POST', '/v1/chat/completions', { body: big })
      expect(declared.status).toBe(413)
      expect(declared.body.error).toEqual({ message: 'Request body too large: limit is 0.001 MB', type: 'invalid_request_error', param: null, code: 413 })
      const chunked = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big))
          controller.close()
        },
      })
      const response = await small.gateway.app.handle(
        new Request('http://localhost/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}` }, body: chunked }),
      )
      expect(response.status).toBe(413)
      expect(small.upstream.requests).toHaveLength(0)
    } finally {
      await small.close()
    }
  })
})
