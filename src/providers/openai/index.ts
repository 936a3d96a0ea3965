/**
 * OpenAI-compatible upstreams (OpenAI, vLLM, Ollama, llama.cpp, Groq, Together, LM Studio …): the request is
 * forwarded as the client shaped it, with `Authorization: Bearer {api_key}`, to `{api_base}{route}`. Responses
 * already have OpenAI's shape, so they pass through byte for byte; only usage and text are read from them.
 */
import { SseParser } from '../../lib/sse'
import { jsonRequestHeaders, trimBase } from '../http'
import { openAiErrorBody, responseText, usageFromOpenAi } from '../openai-format'
import type { OpenAiError, Operation, Provider, StreamDecoder, StreamEvent, UpstreamCall } from '../types'

export const OPENAI_DEFAULT_BASE = 'https://api.openai.com/v1'

export const OPENAI_ROUTES: Record<Operation, string> = { chat: '/chat/completions', completion: '/completions', embedding: '/embeddings' }

/** An in-band `{"error": …}` of an OpenAI stream, as the client receives it. */
function openAiStreamError(error: Record<string, any>): OpenAiError {
  const { message, type, param, code } = error
  return { message: String(message ?? 'upstream error'), type: String(type ?? 'upstream_error'), param: param ?? null, code: code ?? null }
}

/**
 * Decodes an SSE body whose `data:` payloads are OpenAI chunks, `[DONE]` or `{"error": …}`; `errorOf` words
 * an in-band error (OpenAI-shaped upstreams that word theirs differently pass their own).
 */
export function openAiStreamDecoder(errorOf: (error: Record<string, any>) => OpenAiError = openAiStreamError): StreamDecoder {
  const parser = new SseParser()
  const toEvents = (messages: ReturnType<SseParser['push']>): StreamEvent[] => {
    const events: StreamEvent[] = []
    for (const { data } of messages) {
      if (data === '[DONE]') {
        events.push({ kind: 'done' })
        continue
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(data)
      } catch {
        continue // not JSON: nothing a client could use
      }
      if (!parsed || typeof parsed !== 'object') continue
      const chunk = parsed as Record<string, any>
      if (chunk.error && typeof chunk.error === 'object') {
        events.push({ kind: 'error', error: errorOf(chunk.error) })
        continue
      }
      events.push({ kind: 'chunk', chunk, raw: data })
    }
    return events
  }
  return { push: (bytes) => toEvents(parser.push(bytes)), end: () => toEvents(parser.end()) }
}

export const openAiProvider: Provider = {
  name: 'openai',
  buildRequest(call: UpstreamCall) {
    const headers = jsonRequestHeaders(call.stream)
    if (call.deployment.apiKey) headers.authorization = `Bearer ${call.deployment.apiKey}`
    return {
      url: `${trimBase(call.deployment.apiBase ?? OPENAI_DEFAULT_BASE)}${OPENAI_ROUTES[call.operation]}`,
      headers,
      body: JSON.stringify(call.body),
    }
  },
  parseResponse(_call, text) {
    const body = JSON.parse(text) as Record<string, any>
    if (!body || typeof body !== 'object') throw new Error('upstream answered with a JSON value that is not an object')
    return {
      bodyText: text,
      usage: usageFromOpenAi(body.usage),
      responseId: typeof body.id === 'string' ? body.id : null,
      model: typeof body.model === 'string' ? body.model : null,
      outputText: () => responseText(body),
    }
  },
  streamDecoder: () => openAiStreamDecoder(),
  mapError: (_call, status, text) => ({ status, body: openAiErrorBody(status, text) }),
}
