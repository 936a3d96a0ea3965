/**
 * Anthropic's Messages API behind OpenAI's chat shapes: `anthropic/<model>` is sent to
 * `{api_base or https://api.anthropic.com}/v1/messages` with `x-api-key` and `anthropic-version`. Requests are
 * translated in `request.ts`, answers in `response.ts`, streams in `stream.ts`, errors in `errors.ts`.
 * Chat only: legacy completions and embeddings are refused with a 400.
 */
import { responseText, usageFromOpenAi } from '../openai-format'
import { jsonRequestHeaders, trimBase } from '../http'
import type { Provider, UpstreamCall } from '../types'
import { anthropicErrorOf } from './errors'
import { messagesRequest } from './request'
import { chatCompletionOf } from './response'
import { AnthropicStreamDecoder } from './stream'
import { ANTHROPIC_VERSION, messageSchema } from './wire'

export const ANTHROPIC_DEFAULT_BASE = 'https://api.anthropic.com'

/** `{api_base}/v1/messages`; a base that already ends in `/v1` or `/v1/messages` is taken as it is meant. */
export function messagesUrl(apiBase: string | null): string {
  const base = trimBase(apiBase ?? ANTHROPIC_DEFAULT_BASE)
  if (base.endsWith('/v1/messages')) return base
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

export const anthropicProvider: Provider = {
  name: 'anthropic',
  buildRequest(call: UpstreamCall) {
    const body = messagesRequest(call)
    const headers: Record<string, string> = { ...jsonRequestHeaders(call.stream), 'anthropic-version': ANTHROPIC_VERSION }
    if (call.deployment.apiKey) headers['x-api-key'] = call.deployment.apiKey
    return { url: messagesUrl(call.deployment.apiBase), headers, body: JSON.stringify(body) }
  },
  parseResponse(_call, text) {
    const message = messageSchema.parse(JSON.parse(text))
    const completion = chatCompletionOf(message, nowSeconds())
    return {
      bodyText: JSON.stringify(completion),
      usage: usageFromOpenAi(completion.usage),
      responseId: message.id,
      model: message.model,
      outputText: () => responseText(completion),
    }
  },
  streamDecoder: (call) => new AnthropicStreamDecoder(call.upstreamModel, nowSeconds()),
  mapError: (_call, status, text) => anthropicErrorOf(status, text),
}
