/**
 * A local stand-in for LLM providers, speaking their real wire formats: OpenAI-compatible JSON and SSE
 * (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`), Azure OpenAI deployment paths
 * with `api-key` (content-filter results, `stream_options` refused before api-version 2024-09-01), and
 * Anthropic's `/v1/messages` with its SSE events (request checks as the API makes them: fake-anthropic-rules.ts). Tests script failures per request
 * (429 with Retry-After, 500, slow first byte, a hang, a mid-stream disconnect or error event) and read back
 * every request it received, including whether the caller aborted it.
 *
 * @example
 *   const upstream = await startFakeUpstream()
 *   upstream.enqueue({ kind: 'error', status: 500 })  // the next request fails, later ones succeed
 *   ... config: { litellm_params: { model: 'openai/gpt-4o', api_base: upstream.openaiBase, api_key: 'up-key' } }
 */
import type { Server } from 'bun'
import { anthropicRequestProblem } from './fake-anthropic-rules'

export type Behavior =
  | { kind: 'error'; status: number; message?: string; retryAfter?: number; body?: unknown }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'disconnect'; afterChunks: number }
  | { kind: 'stream-error'; afterChunks: number; message?: string }
  | { kind: 'no-usage' }

export type RecordedRequest = {
  method: string
  path: string
  search: string
  headers: Record<string, string>
  body: any
  /** Set when the caller went away (or aborted) before the response finished. */
  aborted: boolean
  receivedAt: number
}

export type Reply = {
  /** The assistant's text; streamed one word per chunk. */
  content: string
  promptTokens: number
  completionTokens: number
  /** When set and the request offers tools, the reply is this tool call instead of text. */
  toolCall?: { name: string; arguments: Record<string, unknown> }
  /** Anthropic: a text block the model writes before its tool_use block ("Let me look that up."). */
  toolCallText?: string
  /** Anthropic: prompt tokens read from / written to the prompt cache (reported besides `input_tokens`). */
  cacheReadTokens?: number
  cacheCreationTokens?: number
  embeddingDimensions: number
}

export type FakeUpstream = {
  readonly url: string
  /** `url + '/v1'`: what an OpenAI-compatible `api_base` points at. */
  readonly openaiBase: string
  readonly requests: RecordedRequest[]
  reply: Reply
  /** Delay between stream chunks, in ms. */
  chunkDelayMs: number
  /** When set, requests without this credential get the provider's 401. */
  expectedApiKey: string | null
  /** Behaviors for the next requests, first in first out; when none is queued, `defaultBehavior` applies. */
  enqueue(...behaviors: Behavior[]): void
  defaultBehavior: Behavior | null
  /** Requests currently being answered. */
  inFlight(): number
  reset(): void
  stop(): Promise<void>
}

const DEFAULT_REPLY: Reply = {
  content: 'Hello from the fake upstream',
  promptTokens: 10,
  completionTokens: 5,
  embeddingDimensions: 8,
}

/** Azure's api-versions before this one refuse `stream_options`. */
const AZURE_STREAM_OPTIONS_SINCE = '2024-09-01'

const SAFE = { filtered: false, severity: 'safe' }
const AZURE_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE }

/** Azure's 400 for a prompt its content filter refused, as it sends it. */
export const AZURE_CONTENT_FILTER_ERROR = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_result: { ...AZURE_FILTER_RESULTS, violence: { filtered: true, severity: 'medium' }, jailbreak: { filtered: false, detected: false } },
    },
  },
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const encoder = new TextEncoder()

type Dialect = 'openai' | 'azure' | 'anthropic'
type Route = { dialect: Dialect; operation: 'chat' | 'completion' | 'embedding' | 'models' | 'messages'; deployment?: string }

function routeOf(method: string, path: string): Route | null {
  const azure = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(path)
  if (azure && method === 'POST') {
    const operation = azure[2] === 'chat/completions' ? 'chat' : azure[2] === 'completions' ? 'completion' : 'embedding'
    return { dialect: 'azure', operation, deployment: azure[1] }
  }
  const openaiPath = path.replace(/^\/v1/, '')
  if (method === 'POST' && path === '/v1/messages') return { dialect: 'anthropic', operation: 'messages' }
  if (method === 'POST' && openaiPath === '/chat/completions') return { dialect: 'openai', operation: 'chat' }
  if (method === 'POST' && openaiPath === '/completions') return { dialect: 'openai', operation: 'completion' }
  if (method === 'POST' && openaiPath === '/embeddings') return { dialect: 'openai', operation: 'embedding' }
  if (method === 'GET' && openaiPath === '/models') return { dialect: 'openai', operation: 'models' }
  return null
}

function errorBody(dialect: Dialect, status: number, message: string): unknown {
  if (dialect === 'anthropic') {
    const type =
      status === 429 ? 'rate_limit_error' : status === 401 ? 'authentication_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error'
    return { type: 'error', error: { type, message } }
  }
  if (dialect === 'azure') return { error: { code: String(status), message } }
  const type = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_api_key' : status >= 500 ? 'server_error' : 'invalid_request_error'
  return { error: { message, type, param: null, code: type } }
}

function words(text: string): string[] {
  return text.split(/(?<= )/).filter(Boolean)
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const queue: Behavior[] = []
  let active = 0
  let counter = 0

  const state: Omit<FakeUpstream, 'url' | 'openaiBase' | 'stop'> = {
    requests: [],
    reply: { ...DEFAULT_REPLY },
    chunkDelayMs: 0,
    expectedApiKey: null,
    defaultBehavior: null,
    enqueue: (...behaviors) => void queue.push(...behaviors),
    inFlight: () => active,
    reset() {
      queue.length = 0
      state.requests.length = 0
      state.reply = { ...DEFAULT_REPLY }
      state.chunkDelayMs = 0
      state.expectedApiKey = null
      state.defaultBehavior = null
    },
  }

  const credentialOf = (route: Route, headers: Headers): string | null => {
    if (route.dialect === 'azure') return headers.get('api-key')
    if (route.dialect === 'anthropic') return headers.get('x-api-key')
    const auth = headers.get('authorization')
    return auth?.startsWith('Bearer ') ? auth.slice(7) : null
  }

  async function handle(request: Request, server: Server<undefined>): Promise<Response> {
    const url = new URL(request.url)
    const route = routeOf(request.method, url.pathname)
    const text = request.method === 'POST' ? await request.text() : ''
    let body: any = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = text
    }
    const record: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      headers: Object.fromEntries(request.headers),
      body,
      aborted: false,
      receivedAt: Date.now(),
    }
    state.requests.push(record)
    request.signal.addEventListener('abort', () => (record.aborted = true))
    server.timeout(request, 0)

    if (!route) return Response.json({ error: { message: `fake upstream: no route ${request.method} ${url.pathname}` } }, { status: 404 })
    if (state.expectedApiKey !== null && credentialOf(route, request.headers) !== state.expectedApiKey) {
      return Response.json(errorBody(route.dialect, 401, 'Incorrect API key provided'), { status: 401 })
    }
    if (route.dialect === 'anthropic' && !request.headers.get('anthropic-version')) {
      return Response.json(errorBody('anthropic', 400, 'anthropic-version header is required'), { status: 400 })
    }
    if (route.dialect === 'azure' && !url.searchParams.get('api-version')) {
      return Response.json(errorBody('azure', 404, 'Resource not found'), { status: 404 })
    }
    if (route.dialect === 'azure' && body?.stream_options !== undefined && url.searchParams.get('api-version')! < AZURE_STREAM_OPTIONS_SINCE) {
      const error = { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: null, code: null }
      return Response.json({ error }, { status: 400 })
    }
    if (route.dialect === 'anthropic') {
      const problem = anthropicRequestProblem(body)
      if (problem) return Response.json(errorBody('anthropic', 400, problem), { status: 400 })
    }

    const behavior = queue.shift() ?? state.defaultBehavior
    if (behavior?.kind === 'delay') await sleep(behavior.ms)
    if (behavior?.kind === 'hang') {
      await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve()))
      return new Response(null, { status: 499 })
    }
    if (behavior?.kind === 'error') {
      const headers: Record<string, string> = {}
      if (behavior.retryAfter !== undefined) headers['retry-after'] = String(behavior.retryAfter)
      return Response.json(behavior.body ?? errorBody(route.dialect, behavior.status, behavior.message ?? `fake upstream error ${behavior.status}`), {
        status: behavior.status,
        headers,
      })
    }
    if (route.operation === 'models') {
      return Response.json({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 1677610602, owned_by: 'fake' }] })
    }
    if (route.dialect === 'anthropic') return anthropicMessages(body, record, behavior)
    return openaiOperation(route, body, record, behavior)
  }

  function rateLimitHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': '9999',
      'x-ratelimit-limit-tokens': '1000000',
      'x-ratelimit-remaining-tokens': '999000',
    }
  }

  /** Anthropic's names for the same limits. */
  function anthropicRateLimitHeaders(): Record<string, string> {
    return {
      'anthropic-ratelimit-requests-limit': '4000',
      'anthropic-ratelimit-requests-remaining': '3999',
      'anthropic-ratelimit-tokens-limit': '400000',
      'anthropic-ratelimit-tokens-remaining': '399000',
    }
  }

  function sse(
    record: RecordedRequest,
    events: string[],
    behavior: Behavior | null,
    errorEvent: () => string,
    limits: Record<string, string> = rateLimitHeaders(),
  ): Response {
    let sent = 0
    let cancelled = false
    active++
    const done = () => {
      if (active > 0) active--
    }
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (cancelled) return
        if (sent > 0 && state.chunkDelayMs > 0) await sleep(state.chunkDelayMs)
        if (cancelled) return
        if (behavior?.kind === 'disconnect' && sent >= behavior.afterChunks) {
          // Let what was sent reach the caller first, so the cut happens mid-stream and not before the headers.
          await sleep(25)
          done()
          controller.error(new Error('fake upstream: disconnect'))
          return
        }
        if (behavior?.kind === 'stream-error' && sent >= behavior.afterChunks) {
          controller.enqueue(encoder.encode(errorEvent()))
          done()
          controller.close()
          return
        }
        const next = events[sent++]
        if (next === undefined) {
          done()
          controller.close()
          return
        }
        controller.enqueue(encoder.encode(next))
      },
      cancel() {
        cancelled = true
        record.aborted = true
        done()
      },
    })
    return new Response(stream, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...limits },
    })
  }

  function openaiOperation(route: Route, body: any, record: RecordedRequest, behavior: Behavior | null): Response {
    const { reply } = state
    const id = `${route.operation === 'chat' ? 'chatcmpl' : 'cmpl'}-fake${++counter}`
    const created = Math.floor(Date.now() / 1000)
    const model = route.deployment ? `${route.deployment}-model` : String(body?.model ?? 'unknown')
    const usage = {
      prompt_tokens: reply.promptTokens,
      completion_tokens: route.operation === 'embedding' ? 0 : reply.completionTokens,
      total_tokens: reply.promptTokens + (route.operation === 'embedding' ? 0 : reply.completionTokens),
    }
    const withUsage = behavior?.kind !== 'no-usage'

    if (route.operation === 'embedding') {
      const inputs = Array.isArray(body?.input) ? body.input : [body?.input]
      return Response.json(
        {
          object: 'list',
          data: inputs.map((_: unknown, index: number) => ({
            object: 'embedding',
            index,
            embedding: Array.from({ length: reply.embeddingDimensions }, (_, i) => (index + 1) / (i + 2)),
          })),
          model,
          ...(withUsage ? { usage: { prompt_tokens: reply.promptTokens, total_tokens: reply.promptTokens } } : {}),
        },
        { headers: rateLimitHeaders() },
      )
    }

    const toolCall = reply.toolCall && Array.isArray(body?.tools) && body.tools.length > 0 ? reply.toolCall : undefined
    if (!body?.stream) {
      const choice =
        route.operation === 'chat'
          ? {
              index: 0,
              message: toolCall
                ? {
                    role: 'assistant',
                    content: null,
                    tool_calls: [{ id: `call_fake${counter}`, type: 'function', function: { name: toolCall.name, arguments: JSON.stringify(toolCall.arguments) } }],
                  }
                : { role: 'assistant', content: reply.content },
              logprobs: null,
              finish_reason: toolCall ? 'tool_calls' : 'stop',
            }
          : { index: 0, text: reply.content, logprobs: null, finish_reason: 'stop' }
      // Azure reports what its content filters found, on the prompt and on each choice.
      const filters = route.dialect === 'azure'
      return Response.json(
        {
          id,
          object: route.operation === 'chat' ? 'chat.completion' : 'text_completion',
          created,
          model,
          system_fingerprint: null,
          ...(filters ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTER_RESULTS }] } : {}),
          choices: [filters ? { ...choice, content_filter_results: AZURE_FILTER_RESULTS } : choice],
          ...(withUsage ? { usage } : {}),
        },
        { headers: rateLimitHeaders() },
      )
    }

    const object = route.operation === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object, created, model, system_fingerprint: null, choices, ...extra })}\n\n`
    const events: string[] = []
    if (route.dialect === 'azure') {
      // Azure opens a stream with the prompt's filter results, in a chunk without id, model or choices.
      const results = [{ prompt_index: 0, content_filter_results: AZURE_FILTER_RESULTS }]
      events.push(`data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: results })}\n\n`)
    }
    if (route.operation === 'chat') {
      events.push(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]))
      if (toolCall) {
        events.push(
          chunk([
            {
              index: 0,
              delta: { tool_calls: [{ index: 0, id: `call_fake${counter}`, type: 'function', function: { name: toolCall.name, arguments: '' } }] },
              logprobs: null,
              finish_reason: null,
            },
          ]),
          chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: JSON.stringify(toolCall.arguments) } }] }, logprobs: null, finish_reason: null }]),
        )
      } else {
        for (const word of words(reply.content)) events.push(chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }]))
      }
      events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: toolCall ? 'tool_calls' : 'stop' }]))
    } else {
      for (const word of words(reply.content)) events.push(chunk([{ index: 0, text: word, logprobs: null, finish_reason: null }]))
      events.push(chunk([{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }]))
    }
    if (withUsage && body?.stream_options?.include_usage) events.push(chunk([], { usage }))
    events.push('data: [DONE]\n\n')
    const message = behavior?.kind === 'stream-error' ? (behavior.message ?? 'fake upstream failed mid-stream') : ''
    return sse(record, events, behavior, () => `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`)
  }

  function anthropicMessages(body: any, record: RecordedRequest, behavior: Behavior | null): Response {
    const { reply } = state
    const id = `msg_fake${++counter}`
    const lastContent = body.messages.at(-1)?.content
    const answeringToolResult = Array.isArray(lastContent) && lastContent.some((block: any) => block?.type === 'tool_result')
    const toolCall = reply.toolCall && Array.isArray(body.tools) && body.tools.length > 0 && !answeringToolResult ? reply.toolCall : undefined
    const toolUse = toolCall ? { type: 'tool_use', id: `toolu_fake${counter}`, name: toolCall.name, input: toolCall.arguments } : null
    // A stop sequence ends the text where it first appears; a max_tokens below the reply's length cuts it off.
    let text = toolCall ? (reply.toolCallText ?? '') : reply.content
    let stopReason = toolCall ? 'tool_use' : 'end_turn'
    let stopSequence: string | null = null
    for (const sequence of Array.isArray(body.stop_sequences) ? body.stop_sequences : []) {
      const at = text.indexOf(sequence)
      if (at !== -1 && !toolCall) [text, stopReason, stopSequence] = [text.slice(0, at), 'stop_sequence', sequence]
    }
    const outputTokens = Math.min(reply.completionTokens, body.max_tokens)
    if (outputTokens < reply.completionTokens && !toolCall) stopReason = 'max_tokens'
    const content: Record<string, unknown>[] = [...(text !== '' ? [{ type: 'text', text }] : []), ...(toolUse ? [toolUse] : [])]
    const inputUsage = {
      input_tokens: reply.promptTokens,
      cache_creation_input_tokens: reply.cacheCreationTokens ?? 0,
      cache_read_input_tokens: reply.cacheReadTokens ?? 0,
    }

    if (!body.stream) {
      const usage = { ...inputUsage, output_tokens: outputTokens }
      const message = { id, type: 'message', role: 'assistant', model: body.model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage }
      return Response.json(message, { headers: anthropicRateLimitHeaders() })
    }
    const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
    const events = [
      event('message_start', {
        type: 'message_start',
        message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...inputUsage, output_tokens: 1 } },
      }),
    ]
    content.forEach((block, index) => {
      if (block.type === 'text') {
        events.push(event('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }), event('ping', { type: 'ping' }))
        for (const word of words(text)) events.push(event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: word } }))
      } else {
        events.push(event('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }))
        // The arguments arrive in pieces, as Anthropic streams them.
        const json = JSON.stringify(block.input)
        const third = Math.ceil(json.length / 3)
        for (let at = 0; at < json.length; at += third) {
          events.push(event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(at, at + third) } }))
        }
      }
      events.push(event('content_block_stop', { type: 'content_block_stop', index }))
    })
    events.push(
      event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: outputTokens } }),
      event('message_stop', { type: 'message_stop' }),
    )
    const message = behavior?.kind === 'stream-error' ? (behavior.message ?? 'Overloaded') : ''
    return sse(record, events, behavior, () => event('error', { type: 'error', error: { type: 'overloaded_error', message } }), anthropicRateLimitHeaders())
  }

  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handle, idleTimeout: 0 })
  const url = `http://127.0.0.1:${server.port}`
  return Object.assign(state, {
    url,
    openaiBase: `${url}/v1`,
    async stop() {
      await server.stop(true)
    },
  }) as FakeUpstream
}
