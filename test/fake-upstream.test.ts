import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'

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
    const withUsage = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: unknown = null
    for await (const chunk of withUsage) {
      text += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
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
    expect(message.usage).toEqual({ input_tokens: 10, output_tokens: 5 })
    const streamed = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude', max_tokens: 10, stream: true, messages: [] }),
    })
    const events = [...(await streamed.text()).matchAll(/^event: (\w+)$/gm)].map((m) => m[1])
    expect(events[0]).toBe('message_start')
    expect(events).toContain('content_block_delta')
    expect(events.at(-1)).toBe('message_stop')
    upstream.reply.toolCall = { name: 'get_weather', arguments: { city: 'Paris' } }
    const tool = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude', max_tokens: 10, tools: [{ name: 'get_weather', input_schema: {} }], messages: [] }),
    })
    const toolMessage: any = await tool.json()
    expect(toolMessage.stop_reason).toBe('tool_use')
    expect(toolMessage.content[0].input).toEqual({ city: 'Paris' })
    const missing = await fetch(`${upstream.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: 'c', messages: [] }) })
    expect(((await missing.json()) as any).error.type).toBe('invalid_request_error')
  })
})
