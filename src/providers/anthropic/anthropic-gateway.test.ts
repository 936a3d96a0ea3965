/**
 * Anthropic deployments through the whole gateway, against the fake upstream's Anthropic mode (which checks
 * requests as the Messages API does), and the official `openai` SDK against them over HTTP. Providers touch
 * no database, so one engine is enough.
 */
import { describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { sqliteEngine } from '../../../test/engines'
import { streamedChatViaSdk } from '../../../test/sdk-stream'
import { ANTHROPIC_KEY, PRICES, providerSuite, ssePayloads } from '../../../test/provider-gateway'
import { pythonFloat } from '../../lib/python-float'

const hi = [{ role: 'user', content: 'hi' }]
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'claude', messages: hi, ...extra })
const COST = 10 * PRICES.input_cost_per_token + 5 * PRICES.output_cost_per_token
const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
]

describe('Anthropic deployments', () => {
  const suite = providerSuite(sqliteEngine)
  const post = suite.post

  test('chat is sent to /v1/messages with the Anthropic headers and answered in OpenAI shape; usage and cost are recorded', async () => {
    suite.upstream.expectedApiKey = ANTHROPIC_KEY
    const response = await post(chat({ messages: [{ role: 'system', content: 'Be brief.' }, ...hi], max_tokens: 100, user: 'customer-7' }))
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      id: expect.stringMatching(/^msg_fake/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'claude-sonnet-4-5',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake upstream' }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
    })
    const received = suite.upstream.requests[0]
    expect(received.path).toBe('/v1/messages')
    expect(received.headers['x-api-key']).toBe(ANTHROPIC_KEY)
    expect(received.headers['anthropic-version']).toBe('2023-06-01')
    expect(received.headers.authorization).toBeUndefined()
    expect(received.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      metadata: { user_id: 'customer-7' },
    })
    expect(response.headers.get('x-litellm-response-cost')).toBe(pythonFloat(COST))
    expect(response.headers.get('llm_provider-anthropic-ratelimit-requests-remaining')).toBe('3999')
    expect(suite.usage.records[0]).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      responseId: response.body.id,
      promptTokens: 10,
      completionTokens: 5,
      usageEstimated: false,
      cost: COST,
      status: 'success',
    })
    expect(response.text).not.toContain(ANTHROPIC_KEY)
  })

  test('cache reads and writes count as prompt tokens; reads are priced at the cache price', async () => {
    Object.assign(suite.upstream.reply, { cacheReadTokens: 1000, cacheCreationTokens: 100 })
    const response = await post(chat())
    expect(response.body.usage).toEqual({
      prompt_tokens: 1110,
      completion_tokens: 5,
      total_tokens: 1115,
      prompt_tokens_details: { cached_tokens: 1000 },
      cache_creation_input_tokens: 100,
    })
    const cost = 110 * PRICES.input_cost_per_token + 1000 * PRICES.cache_read_input_token_cost + 5 * PRICES.output_cost_per_token
    expect(suite.usage.records[0]).toMatchObject({ promptTokens: 1110, cachedPromptTokens: 1000, cost })
  })

  test('a stream is translated to chunks as it arrives; the usage chunk is dropped unless asked for, and recorded', async () => {
    suite.upstream.chunkDelayMs = 5
    const response = await post(chat({ stream: true }))
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const payloads = ssePayloads(response.text)
    expect(payloads.at(-1)).toBe('[DONE]')
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p))
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id.startsWith('msg_fake') && !('usage' in c))).toBe(true)
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' })
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hello from the fake upstream')
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop')
    expect(suite.upstream.requests[0].body.stream).toBe(true)
    expect(suite.upstream.requests[0].body.stream_options).toBeUndefined()
    expect(suite.usage.records[0]).toMatchObject({ stream: true, status: 'success', promptTokens: 10, completionTokens: 5, usageEstimated: false, cost: COST })
    expect(suite.usage.records[0].responseId).toBe(chunks[0].id)
  })

  test('a client that asked for usage gets the final usage chunk with its cost', async () => {
    const response = await post(chat({ stream: true, stream_options: { include_usage: true } }))
    const payloads = ssePayloads(response.text)
    const usage = JSON.parse(payloads.at(-2)!)
    expect(usage.choices).toEqual([])
    expect(usage.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 }, cost: COST })
  })

  test('a tool call round trip: tool_use comes back as tool_calls, the tool result goes up as tool_result, then the answer', async () => {
    Object.assign(suite.upstream.reply, { toolCall: { name: 'get_weather', arguments: { city: 'Paris' } }, toolCallText: 'Let me check.' })
    const first = await post(chat({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: TOOLS, tool_choice: 'auto' }))
    expect(first.status).toBe(200)
    const message = first.body.choices[0].message
    expect(first.body.choices[0].finish_reason).toBe('tool_calls')
    expect(message.content).toBe('Let me check.')
    expect(message.tool_calls).toEqual([{ id: expect.stringMatching(/^toolu_fake/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
    expect(suite.upstream.requests[0].body.tools).toEqual([
      { name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ])
    expect(suite.upstream.requests[0].body.tool_choice).toEqual({ type: 'auto' })

    const messages = [{ role: 'user', content: 'Weather in Paris?' }, message, { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '18C and sunny' }]
    const second = await post(chat({ messages, tools: TOOLS }))
    expect(second.status).toBe(200)
    expect(second.body.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the fake upstream' }, finish_reason: 'stop' })
    expect(suite.upstream.requests[1].body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: message.tool_calls[0].id, name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.tool_calls[0].id, content: '18C and sunny' }] },
    ])
    expect(suite.usage.records.map((r) => r.status)).toEqual(['success', 'success'])
  })

  test('stop sequences and max_tokens reach Anthropic and come back as finish reasons', async () => {
    const stopped = await post(chat({ stop: ['fake'], max_tokens: 50 }))
    expect(stopped.body.choices[0]).toMatchObject({ message: { content: 'Hello from the ' }, finish_reason: 'stop' })
    expect(suite.upstream.requests[0].body.stop_sequences).toEqual(['fake'])
    const cut = await post(chat({ max_completion_tokens: 2 }))
    expect(cut.body.choices[0].finish_reason).toBe('length')
    expect(suite.upstream.requests[1].body.max_tokens).toBe(2)
  })

  test("Anthropic's 429 keeps its status and Retry-After; 500 and 529 are mapped; all are failures that cost nothing", async () => {
    suite.upstream.enqueue(
      { kind: 'error', status: 429, retryAfter: 12, message: 'Number of request tokens has exceeded your per-minute rate limit' },
      { kind: 'error', status: 500, message: 'Internal server error' },
      { kind: 'error', status: 529, message: 'Overloaded' },
    )
    const limited = await post(chat())
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('12')
    expect(limited.body).toEqual({ error: { message: 'Number of request tokens has exceeded your per-minute rate limit', type: 'rate_limit_error', param: null, code: 429 } })
    const broken = await post(chat())
    expect([broken.status, broken.body]).toEqual([500, { error: { message: 'Internal server error', type: 'api_error', param: null, code: 500 } }])
    const overloaded = await post(chat())
    expect([overloaded.status, overloaded.body]).toEqual([503, { error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: 503 } }])
    expect(suite.usage.records.map((r) => [r.status, r.httpStatus, r.cost])).toEqual([
      ['failure', 429, 0],
      ['failure', 500, 0],
      ['failure', 503, 0],
    ])
  })

  test('a rejected key is a 502 upstream_auth_error that never shows the key', async () => {
    suite.upstream.expectedApiKey = 'some-other-key'
    const response = await post(chat())
    expect(response.status).toBe(502)
    expect(response.body.error.type).toBe('upstream_auth_error')
    expect(response.text).not.toContain(ANTHROPIC_KEY)
    expect(JSON.stringify(suite.gateway.log.lines)).not.toContain(ANTHROPIC_KEY)
  })

  test('an error event mid-stream reaches the client as an error event without [DONE] and is recorded as a failure', async () => {
    suite.upstream.enqueue({ kind: 'stream-error', afterChunks: 4, message: 'Overloaded' })
    const response = await post(chat({ stream: true }))
    expect(response.status).toBe(200)
    const payloads = ssePayloads(response.text)
    expect(payloads).not.toContain('[DONE]')
    expect(JSON.parse(payloads.at(-1)!)).toEqual({ error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: 503 } })
    expect(suite.usage.records[0]).toMatchObject({ status: 'failure', cost: 0, error: { type: 'overloaded_error', status: 503 } })
  })

  test('legacy completions and embeddings on an Anthropic model are a 400 that says why, with nothing sent upstream', async () => {
    const completion = await post({ model: 'claude', prompt: 'hi' }, '/v1/completions')
    expect(completion.status).toBe(400)
    expect(completion.body).toEqual({
      error: {
        message: 'model=claude is an Anthropic chat model (anthropic/claude-sonnet-4-5): /completions (legacy text completions) is not available for it; use /chat/completions',
        type: 'invalid_request_error',
        param: null,
        code: 400,
      },
    })
    const embedding = await post({ model: 'claude', input: 'hi' }, '/v1/embeddings')
    expect(embedding.status).toBe(400)
    expect(embedding.body.error.message).toContain('Anthropic has no embeddings API')
    const untranslatable = await post(chat({ n: 3 }))
    expect([untranslatable.status, untranslatable.body.error.param]).toEqual([400, 'n'])
    expect(suite.upstream.requests).toHaveLength(0)
    expect(suite.usage.records.map((r) => [r.status, r.httpStatus])).toEqual([
      ['failure', 400],
      ['failure', 400],
      ['failure', 400],
    ])
  })

  describe('the official openai SDK, unchanged', () => {
    test('chat and a streamed chat with usage', async () => {
      const completion = await suite.sdk.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] })
      expect(completion.choices[0].message.content).toBe('Hello from the fake upstream')
      expect(completion.usage?.total_tokens).toBe(15)
      const { text, usage } = await streamedChatViaSdk(suite.sdk, 'claude')
      expect(text).toBe('Hello from the fake upstream')
      expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: COST })
    })

    test('a streamed tool call assembled by the SDK, its result sent back, and the final answer', async () => {
      Object.assign(suite.upstream.reply, { toolCall: { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } }, toolCallText: 'Checking.' })
      const tools = TOOLS as OpenAI.Chat.ChatCompletionTool[]
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }]
      const runner = suite.sdk.chat.completions.stream({ model: 'claude', messages, tools })
      const first = await runner.finalChatCompletion()
      const assistant = first.choices[0].message
      expect(first.choices[0].finish_reason).toBe('tool_calls')
      expect(assistant.content).toBe('Checking.')
      expect(assistant.tool_calls).toHaveLength(1)
      const toolCall = assistant.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall
      expect(JSON.parse(toolCall.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
      const answer = await suite.sdk.chat.completions.create({
        model: 'claude',
        tools,
        messages: [...messages, { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls }, { role: 'tool', tool_call_id: toolCall.id, content: '18C' }],
      })
      expect(answer.choices[0].message.content).toBe('Hello from the fake upstream')
    })

    test('errors surface as the SDK error classes', async () => {
      suite.upstream.enqueue({ kind: 'error', status: 429, retryAfter: 1 })
      const limited = await suite.sdk.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
      expect(limited).toBeInstanceOf(OpenAI.RateLimitError)
      expect(limited.error.type).toBe('rate_limit_error')
      const refused = await suite.sdk.completions.create({ model: 'claude', prompt: 'hi' }).catch((e) => e)
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    })
  })
})
