import { describe, expect, test } from 'bun:test'
import { toDeployment } from '../../deployments/deployment'
import { ProviderRequestError, type StreamEvent, type UpstreamCall } from '../types'
import { anthropicProvider, messagesUrl } from '.'

type Entry = { params?: Record<string, unknown>; info?: Record<string, unknown> }

const call = (body: Record<string, unknown>, options: { operation?: UpstreamCall['operation']; stream?: boolean } & Entry = {}): UpstreamCall => ({
  operation: options.operation ?? 'chat',
  deployment: toDeployment(
    { model_name: 'claude', litellm_params: { model: 'anthropic/claude-sonnet-4', api_key: 'sk-ant-secret', ...options.params } as any, model_info: options.info as any },
    0,
  ),
  upstreamModel: 'claude-sonnet-4',
  body: { model: 'claude-sonnet-4', ...body },
  stream: options.stream ?? false,
})

const built = (body: Record<string, unknown>, options: Parameters<typeof call>[1] = {}) => JSON.parse(anthropicProvider.buildRequest(call(body, options)).body)

const refusal = (body: Record<string, unknown>, options: Parameters<typeof call>[1] = {}) => {
  try {
    anthropicProvider.buildRequest(call(body, options))
  } catch (error) {
    if (error instanceof ProviderRequestError) return { message: error.message, param: error.param }
    throw error
  }
  throw new Error('the request was not refused')
}

const user = (content: unknown) => ({ role: 'user', content })

describe('Anthropic: request out', () => {
  test('POST {api_base}/v1/messages with x-api-key and anthropic-version; the default base is api.anthropic.com', () => {
    const spec = anthropicProvider.buildRequest(call({ messages: [user('hi')] }))
    expect(spec.url).toBe('https://api.anthropic.com/v1/messages')
    expect(spec.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', 'x-api-key': 'sk-ant-secret', 'anthropic-version': '2023-06-01' })
    expect(JSON.parse(spec.body)).toEqual({ model: 'claude-sonnet-4', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] })
    expect(anthropicProvider.buildRequest(call({ messages: [user('hi')] }, { stream: true })).headers.accept).toBe('text/event-stream')
    expect(messagesUrl('http://gw:9000/')).toBe('http://gw:9000/v1/messages')
    expect(messagesUrl('http://gw:9000/v1')).toBe('http://gw:9000/v1/messages')
    expect(messagesUrl('http://gw:9000/v1/messages')).toBe('http://gw:9000/v1/messages')
  })

  test('system and developer messages are lifted out wherever they are; one plain system prompt is a string', () => {
    expect(built({ messages: [{ role: 'system', content: 'Be brief.' }, user('hi')] }).system).toBe('Be brief.')
    const several = built({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } }] },
        user('hi'),
        { role: 'developer', content: 'Late note.' },
      ],
    })
    expect(several.system).toEqual([
      { type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Late note.' },
    ])
    expect(several.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])
  })

  test('consecutive turns of one role are merged, empty text is dropped, a prefill loses its trailing whitespace', () => {
    const body = built({
      messages: [user('a'), user([{ type: 'text', text: 'b' }, { type: 'text', text: '' }]), { role: 'assistant', content: '' }, { role: 'assistant', content: 'Sure: ' }],
    })
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure:' }] },
    ])
  })

  test('assistant tool_calls become tool_use blocks, tool messages tool_result blocks of one user turn', () => {
    const body = built({
      messages: [
        user('Weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
        user('Thanks'),
      ],
    })
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ])
  })

  test('images: data URLs become base64 sources, http URLs url sources, PDFs documents', () => {
    const body = built({
      messages: [
        user([
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
        ]),
      ],
    })
    expect(body.messages[0].content.slice(1)).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
    ])
  })

  test('max_tokens: the request, else litellm_params.max_tokens, model_info.max_output_tokens, model_info.max_tokens, else 4096', () => {
    const messages = [user('hi')]
    expect(built({ messages, max_tokens: 50 }, { params: { max_tokens: 900 } }).max_tokens).toBe(50)
    expect(built({ messages, max_completion_tokens: 60 }).max_tokens).toBe(60)
    expect(built({ messages }, { params: { max_tokens: 900 }, info: { max_output_tokens: 800 } }).max_tokens).toBe(900)
    expect(built({ messages }, { info: { max_output_tokens: 800, max_tokens: 700 } }).max_tokens).toBe(800)
    expect(built({ messages }, { info: { max_tokens: 700 } }).max_tokens).toBe(700)
    expect(built({ messages, max_tokens: null }).max_tokens).toBe(4096)
    expect(refusal({ messages, max_tokens: 0 })).toEqual({ message: 'max_tokens: expected a positive integer', param: 'max_tokens' })
  })

  test('sampling, stop sequences, user, tools and tool_choice are translated; stream_options and unknown fields are not sent', () => {
    const tools = [
      { type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'now' } },
    ]
    const body = built(
      {
        messages: [user('hi')],
        temperature: 0.2,
        top_p: 0.9,
        stop: 'END',
        user: 'customer-7',
        tools,
        tool_choice: 'required',
        parallel_tool_calls: false,
        presence_penalty: 0.5,
        seed: 3,
        stream: true,
        stream_options: { include_usage: true },
      },
      { stream: true },
    )
    expect(body).toEqual({
      model: 'claude-sonnet-4',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      tools: [
        { name: 'weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        { name: 'now', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      metadata: { user_id: 'customer-7' },
      stream: true,
    })
    const choice = (tool_choice: unknown) => built({ messages: [user('hi')], tools, tool_choice }).tool_choice
    expect(choice('auto')).toEqual({ type: 'auto' })
    expect(choice('none')).toEqual({ type: 'none' })
    expect(choice({ type: 'function', function: { name: 'now' } })).toEqual({ type: 'tool', name: 'now' })
    expect(choice(undefined)).toBeUndefined()
    expect(built({ messages: [user('hi')], stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b'])
  })

  test('what Anthropic cannot do is refused with a 400 that says so, naming the field', () => {
    const messages = [user('hi')]
    expect(refusal({ prompt: 'hi' }, { operation: 'completion' }).message).toBe(
      'model=claude is an Anthropic chat model (anthropic/claude-sonnet-4): /completions (legacy text completions) is not available for it; use /chat/completions',
    )
    expect(refusal({ input: 'hi' }, { operation: 'embedding' }).message).toContain('/embeddings (Anthropic has no embeddings API) is not available')
    expect(refusal({ messages, n: 2 }).param).toBe('n')
    expect(refusal({ messages, logprobs: true }).param).toBe('logprobs')
    expect(refusal({ messages, response_format: { type: 'json_schema', json_schema: {} } }).message).toBe(
      "response_format: type 'json_schema' is not supported by Anthropic models",
    )
    expect(built({ messages, response_format: { type: 'text' } }).response_format).toBeUndefined()
    expect(refusal({ messages: [user([{ type: 'input_audio', input_audio: {} }])] })).toEqual({
      message: "messages[0].content[0]: content part type 'input_audio' is not supported by Anthropic models",
      param: 'messages[0].content[0]',
    })
    expect(refusal({ messages: [user([{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }])] }).param).toBe('messages[0].content[0].image_url.url')
    expect(refusal({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }).message).toContain('not supported in this message')
    const badArguments = { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] }
    expect(refusal({ messages: [user('q'), badArguments] }).message).toBe('messages[1].tool_calls[0].function.arguments: expected a JSON object')
    expect(refusal({ messages: [user('q'), { role: 'tool', content: 'x' }] }).param).toBe('messages[1].tool_call_id')
    expect(refusal({ messages: [{ role: 'function', name: 'f', content: 'x' }] }).param).toBe('messages[0].role')
    expect(refusal({ messages, tools: [{ type: 'code_interpreter' }] }).param).toBe('tools[0]')
  })
})

const MESSAGE = {
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-20250514',
  content: [
    { type: 'text', text: 'Let me check. ' },
    { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 7 },
}

describe('Anthropic: response in', () => {
  test('a message becomes a chat completion: text, tool calls, finish reason and usage with cached tokens', () => {
    const parsed = anthropicProvider.parseResponse(call({}), JSON.stringify(MESSAGE))
    const body = JSON.parse(parsed.bodyText)
    expect(body).toEqual({
      id: 'msg_01',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'claude-sonnet-4-20250514',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check. ',
            tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1112, completion_tokens: 7, total_tokens: 1119, prompt_tokens_details: { cached_tokens: 1000 }, cache_creation_input_tokens: 100 },
    })
    expect(parsed.usage).toEqual({ promptTokens: 1112, completionTokens: 7, totalTokens: 1119, cachedPromptTokens: 1000 })
    expect(parsed.responseId).toBe('msg_01')
    expect(parsed.model).toBe('claude-sonnet-4-20250514')
    expect(parsed.outputText()).toBe('Let me check. weather{"city":"Paris"}')
  })

  test('stop reasons map to finish reasons; a tool-only answer has null content', () => {
    const finish = (stop_reason: string | null) => {
      const message = { ...MESSAGE, content: [{ type: 'text', text: 'x' }], stop_reason }
      return JSON.parse(anthropicProvider.parseResponse(call({}), JSON.stringify(message)).bodyText).choices[0].finish_reason
    }
    expect(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'something_new', null].map(finish)).toEqual([
      'stop',
      'stop',
      'length',
      'tool_calls',
      'content_filter',
      'stop',
      'stop',
    ])
    const toolOnly = { ...MESSAGE, content: [MESSAGE.content[1]] }
    expect(JSON.parse(anthropicProvider.parseResponse(call({}), JSON.stringify(toolOnly)).bodyText).choices[0].message.content).toBeNull()
  })

  test('a body that is not an Anthropic message is refused (the proxy answers 502)', () => {
    expect(() => anthropicProvider.parseResponse(call({}), '{"choices":[]}')).toThrow()
    expect(() => anthropicProvider.parseResponse(call({}), JSON.stringify({ ...MESSAGE, content: [{ type: 'text' }] }))).toThrow()
    expect(() => anthropicProvider.parseResponse(call({}), 'not json')).toThrow()
  })
})

const sse = (name: string, data: Record<string, unknown>) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`

/** Feeds `text` to a fresh decoder in pieces of `size` bytes (so events split anywhere) and collects events. */
function decode(text: string, size = 7): StreamEvent[] {
  const decoder = anthropicProvider.streamDecoder(call({}, { stream: true }))
  const bytes = new TextEncoder().encode(text)
  const events: StreamEvent[] = []
  for (let at = 0; at < bytes.length; at += size) events.push(...decoder.push(bytes.subarray(at, at + size)))
  return [...events, ...decoder.end()]
}

const deltas = (events: StreamEvent[]) => events.map((e) => (e.kind === 'chunk' ? (e.chunk.choices[0] ? [e.chunk.choices[0].delta, e.chunk.choices[0].finish_reason] : e.chunk.usage) : e.kind))

const START = sse('message_start', {
  message: { id: 'msg_s', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: [], usage: { input_tokens: 20, cache_read_input_tokens: 5, output_tokens: 1 } },
})

describe('Anthropic: stream events in', () => {
  test('text deltas become content chunks; message_delta the finish chunk; message_stop a usage chunk and the end', () => {
    const events = decode(
      START +
        sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        sse('ping', {}) +
        sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }) +
        sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' there' } }) +
        sse('content_block_stop', { index: 0 }) +
        sse('message_delta', { delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 9 } }) +
        sse('message_stop', {}),
    )
    expect(deltas(events)).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Hello' }, null],
      [{ content: ' there' }, null],
      [{}, 'length'],
      { prompt_tokens: 25, completion_tokens: 9, total_tokens: 34, prompt_tokens_details: { cached_tokens: 5 } },
      'done',
    ])
    const first = events[0] as Extract<StreamEvent, { kind: 'chunk' }>
    expect(first.chunk).toMatchObject({ id: 'msg_s', object: 'chat.completion.chunk', model: 'claude-sonnet-4-20250514', created: expect.any(Number) })
    expect(first.raw).toBeNull()
    const usageChunk = events.at(-2) as Extract<StreamEvent, { kind: 'chunk' }>
    expect(usageChunk.chunk.choices).toEqual([])
  })

  test('tool_use blocks become tool calls numbered from 0, with their arguments in pieces', () => {
    const events = decode(
      START +
        sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
        sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Checking.' } }) +
        sse('content_block_stop', { index: 0 }) +
        sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} } }) +
        sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }) +
        sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } }) +
        sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } }) +
        sse('content_block_stop', { index: 1 }) +
        sse('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_2', name: 'time', input: {} } }) +
        sse('content_block_stop', { index: 2 }) +
        sse('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } }) +
        sse('message_stop', {}),
      3,
    )
    expect(deltas(events).slice(1, -2)).toEqual([
      [{ content: 'Checking.' }, null],
      [{ tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"city": "Pa' } }] }, null],
      [{ tool_calls: [{ index: 0, function: { arguments: 'ris"}' } }] }, null],
      [{ tool_calls: [{ index: 1, id: 'toolu_2', type: 'function', function: { name: 'time', arguments: '' } }] }, null],
      [{}, 'tool_calls'],
    ])
  })

  test('an error event ends the stream as an in-band error with the status Anthropic would have used', () => {
    const events = decode(
      START +
        sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }) +
        sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }) +
        sse('message_stop', {}),
    )
    expect(events.at(-1)).toEqual({ kind: 'error', error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: 503 } })
    expect(events.filter((e) => e.kind === 'done')).toHaveLength(0)
    const rateLimited = decode(sse('error', { error: { type: 'rate_limit_error', message: 'slow down' } }))
    expect(rateLimited).toEqual([{ kind: 'error', error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 429 } }])
  })

  test('a stream cut after message_delta still yields its usage; unknown events and thinking are handled', () => {
    const events = decode(
      START +
        sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }) +
        sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }) +
        sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig' } }) +
        sse('some_future_event', { anything: 1 }) +
        'data: not json\n\n' +
        sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }),
    )
    expect(deltas(events)).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ reasoning_content: 'hmm' }, null],
      [{}, 'stop'],
      { prompt_tokens: 25, completion_tokens: 3, total_tokens: 28, prompt_tokens_details: { cached_tokens: 5 } },
    ])
    // Cut before any finish: nothing is invented; the relay reports the truncated stream.
    expect(deltas(decode(START))).toEqual([[{ role: 'assistant', content: '' }, null]])
  })
})

describe('Anthropic: error mapping', () => {
  const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' })

  test("Anthropic's envelope becomes OpenAI's with the status kept; 529 overloaded becomes 503", () => {
    expect(anthropicProvider.mapError(call({}), 429, body('rate_limit_error', 'Number of request tokens has exceeded your rate limit'))).toEqual({
      status: 429,
      body: { error: { message: 'Number of request tokens has exceeded your rate limit', type: 'rate_limit_error', param: null, code: 429 } },
    })
    expect(anthropicProvider.mapError(call({}), 529, body('overloaded_error', 'Overloaded'))).toEqual({
      status: 503,
      body: { error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: 503 } },
    })
    expect(anthropicProvider.mapError(call({}), 400, body('invalid_request_error', 'messages: bad')).body).toEqual({
      error: { message: 'messages: bad', type: 'invalid_request_error', param: null, code: 400 },
    })
  })

  test('a body that is not Anthropic JSON is wrapped with the contract type for its status', () => {
    expect(anthropicProvider.mapError(call({}), 502, '<html>Bad gateway</html>')).toEqual({
      status: 502,
      body: { error: { message: '<html>Bad gateway</html>', type: 'upstream_error', param: null, code: 502 } },
    })
    expect(anthropicProvider.mapError(call({}), 500, '').body).toEqual({ error: { message: 'Upstream returned HTTP 500', type: 'upstream_error', param: null, code: 500 } })
  })
})
