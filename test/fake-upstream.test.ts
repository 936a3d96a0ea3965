import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { streamedChatViaSdk } from './sdk-stream'

describe('the fake upstream speaks the providers wire formats', () => {
  let upstream: FakeUpstream
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startFakeUpstream()
    client = new OpenAI({ baseURL: upstream.openaiBase, apiKey: 'up-key', maxRetries: 0 })
  })
  afterAll(() => upstream.stop())
  beforeEach(() => upstream.reset())

  test('OpenAI chat, as the official SDK parses it', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0].message.content).toBe('Hello from the fake upstream')
    expect(completion.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
    expect(upstream.requests[0].headers.authorization).toBe('Bearer up-key')
  })

  test('OpenAI streamed chat ends with a usage chunk only when asked', async () => {
    const { text, usage } = await streamedChatViaSdk(client, 'gpt-4o')
    expect(text).toBe('Hello from the fake upstream')
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })
    const without = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true })
    for await (const chunk of without) expect(chunk.usage ?? null).toBeNull()
  })

  test('legacy completions, embeddings and the model list', async () => {
    const completion = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi' })
    expect(completion.choices[0].text).toBe('Hello from the fake upstream')
    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] })
    expect(embeddings.data).toHaveLength(2)
    expect(embeddings.usage.prompt_tokens).toBe(10)
    expect((await client.models.list()).data[0].id).toBe('fake-model')
  })

  test('scripted failures: 429 with Retry-After, then success', async () => {
    upstream.enqueue({ kind: 'error', status: 429, retryAfter: 2 })
    const failure = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError)
    expect(failure.headers.get('retry-after')).toBe('2')
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
  })

  test('a mid-stream error event and a mid-stream disconnect', async () => {
    upstream.enqueue({ kind: 'stream-error', afterChunks: 2 })
    const response = await fetch(`${upstream.openaiBase}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [] }),
    })
    const text = await response.text()
    expect(text).toContain('"error"')
    expect(text).not.toContain('[DONE]')
    upstream.enqueue({ kind: 'disconnect', afterChunks: 2 })
    const broken = await fetch(`${upstream.openaiBase}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', stream: true }) })
    expect(await broken.text().catch((e) => e)).toBeInstanceOf(Error)
  })

  test('a caller that goes away is recorded as aborted', async () => {
    upstream.enqueue({ kind: 'hang' })
    const controller = new AbortController()
    const pending = fetch(`${upstream.openaiBase}/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal }).catch(() => null)
    await Bun.sleep(50)
    controller.abort()
    await pending
    await Bun.sleep(50)
    expect(upstream.requests[0].aborted).toBe(true)
  })

  test('Azure deployment paths need api-version and api-key', async () => {
    upstream.expectedApiKey = 'azure-key'
    const url = `${upstream.url}/openai/deployments/my-gpt/chat/completions?api-version=2024-02-01`
    const denied = await fetch(url, { method: 'POST', body: '{}' })
    expect(denied.status).toBe(401)
    expect(((await denied.json()) as any).error.code).toBe('401')
    const ok = await fetch(url, { method: 'POST', headers: { 'api-key': 'azure-key' }, body: JSON.stringify({ messages: [] }) })
    expect(((await ok.json()) as any).model).toBe('my-gpt-model')
  })

  test('Anthropic messages: JSON, SSE events and tool use', async () => {
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }
    const plain = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude-3-5-sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    })
    const message: any = await plain.json()
    expect(message.content[0].text).toBe('Hello from the fake upstream')
    expect(message.usage).toEqual({ input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5 })
    const hi = [{ role: 'user', content: 'hi' }]
    const streamed = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude', max_tokens: 10, stream: true, messages: hi }),
    })
    const events = [...(await streamed.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1])
    expect(events[0]).toBe('message_start')
    expect(events).toContain('content_block_delta')
    expect(events.at(-1)).toBe('message_stop')
    upstream.reply.toolCall = { name: 'get_weather', arguments: { city: 'Paris' } }
    const tool = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude', max_tokens: 10, tools: [{ name: 'get_weather', input_schema: {} }], messages: hi }),
    })
    const toolMessage: any = await tool.json()
    expect(toolMessage.stop_reason).toBe('tool_use')
    expect(toolMessage.content[0].input).toEqual({ city: 'Paris' })
    const missing = await fetch(`${upstream.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: 'c', messages: hi }) })
    expect(((await missing.json()) as any).error.type).toBe('invalid_request_error')
  })

  test('Anthropic requests are checked as the API checks them', async () => {
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }
    const tools = [{ name: 'f', input_schema: { type: 'object' } }]
    const toolUse = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] }
    const cases: Array<[unknown[], string, unknown?]> = [
      [[], 'messages: at least one message is required'],
      [[{ role: 'system', content: 'x' }], "messages.0.role: Input should be 'user' or 'assistant'"],
      [[{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }], 'found multiple "user" roles in a row'],
      [[{ role: 'user', content: [{ type: 'text', text: '' }] }], 'text content blocks must be non-empty'],
      [[{ role: 'user', content: 'q' }, toolUse, { role: 'user', content: 'no result' }], '`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1', tools],
      [[{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9' }] }], 'unexpected `tool_use_id`', tools],
      [[{ role: 'user', content: 'q' }, toolUse, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }], 'must define tools'],
      [[{ role: 'user', content: 'q' }, { role: 'assistant', content: 'prefill ' }], 'final assistant content cannot end with trailing whitespace'],
    ]
    for (const [messages, problem, withTools] of cases) {
      const response = await fetch(`${upstream.url}/v1/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'c', max_tokens: 5, messages, ...(withTools ? { tools: withTools } : {}) }),
      })
      expect(response.status).toBe(400)
      expect(((await response.json()) as any).error.message).toContain(problem)
    }
    upstream.reply.toolCall = { name: 'f', arguments: { a: 1 } }
    const roundTrip = [{ role: 'user', content: 'q' }, toolUse, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '42' }] }]
    const answer = await fetch(`${upstream.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: 'c', max_tokens: 5, tools, messages: roundTrip }) })
    expect(((await answer.json()) as any).content).toEqual([{ type: 'text', text: 'Hello from the fake upstream' }])
  })

  test('Anthropic stop sequences, max_tokens, cache usage and streamed tool arguments in pieces', async () => {
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }
    const post = (body: Record<string, unknown>) =>
      fetch(`${upstream.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'q' }], ...body }) })
    const stopped: any = await (await post({ max_tokens: 50, stop_sequences: ['fake'] })).json()
    expect([stopped.content[0].text, stopped.stop_reason, stopped.stop_sequence]).toEqual(['Hello from the ', 'stop_sequence', 'fake'])
    const cut: any = await (await post({ max_tokens: 2 })).json()
    expect([cut.stop_reason, cut.usage.output_tokens]).toEqual(['max_tokens', 2])
    Object.assign(upstream.reply, { cacheReadTokens: 100, cacheCreationTokens: 20, toolCall: { name: 'f', arguments: { city: 'Paris' } }, toolCallText: 'Checking.' })
    const streamed = await (await post({ max_tokens: 50, stream: true, tools: [{ name: 'f', input_schema: {} }] })).text()
    const data = [...streamed.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]))
    expect(data[0].message.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 })
    expect(data.filter((d) => d.type === 'content_block_start').map((d) => d.content_block.type)).toEqual(['text', 'tool_use'])
    const pieces = data.filter((d) => d.delta?.type === 'input_json_delta').map((d) => d.delta.partial_json)
    expect(pieces.length).toBeGreaterThan(1)
    expect(JSON.parse(pieces.join(''))).toEqual({ city: 'Paris' })
  })

  test('Azure: content-filter results, and stream_options refused before api-version 2024-09-01', async () => {
    const url = (version: string) => `${upstream.url}/openai/deployments/d/chat/completions?api-version=${version}`
    const plain: any = await (await fetch(url('2024-02-01'), { method: 'POST', body: JSON.stringify({ messages: [] }) })).json()
    expect(plain.prompt_filter_results[0].content_filter_results.hate).toEqual({ filtered: false, severity: 'safe' })
    const body = JSON.stringify({ messages: [], stream: true, stream_options: { include_usage: true } })
    const old = await fetch(url('2024-06-01'), { method: 'POST', body })
    expect(old.status).toBe(400)
    expect(((await old.json()) as any).error.message).toBe('Unrecognized request argument supplied: stream_options')
    const current = await (await fetch(url('2024-10-21'), { method: 'POST', body })).text()
    expect(current.split('\n\n')[0]).toContain('"prompt_filter_results"')
    expect(current).toContain('"usage":{')
  })
})
