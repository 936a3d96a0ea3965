/**
 * Reading OpenAI's shapes, the data plane's lingua franca: usage objects, the text of a response or a chunk,
 * and error bodies. Every provider produces these shapes; the proxy reads them through these helpers.
 */
import type { OpenAiError, TokenUsage } from './types'

const count = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null)

/** OpenAI's `usage` object → TokenUsage; null when absent or without token counts. */
export function usageFromOpenAi(usage: unknown): TokenUsage | null {
  if (!usage || typeof usage !== 'object') return null
  const u = usage as Record<string, any>
  const prompt = count(u.prompt_tokens)
  const completion = count(u.completion_tokens)
  if (prompt === null && completion === null) return null
  const promptTokens = prompt ?? 0
  const completionTokens = completion ?? 0
  return {
    promptTokens,
    completionTokens,
    totalTokens: count(u.total_tokens) ?? promptTokens + completionTokens,
    cachedPromptTokens: count(u.prompt_tokens_details?.cached_tokens) ?? 0,
  }
}

function toolCallText(toolCalls: unknown): string {
  if (!Array.isArray(toolCalls)) return ''
  let text = ''
  for (const call of toolCalls) {
    const fn = call?.function
    if (typeof fn?.name === 'string') text += fn.name
    if (typeof fn?.arguments === 'string') text += fn.arguments
  }
  return text
}

/** The text of `choices`: legacy `text`, and the content and tool calls of each choice's `message` or `delta`. */
function choicesText(body: Record<string, any>, part: 'message' | 'delta'): string {
  if (!Array.isArray(body.choices)) return ''
  let text = ''
  for (const choice of body.choices) {
    if (typeof choice?.text === 'string') text += choice.text
    const message = choice?.[part]
    if (typeof message?.content === 'string') text += message.content
    text += toolCallText(message?.tool_calls)
  }
  return text
}

/** The generated text of a chat or text completion (tool calls count as text). */
export const responseText = (body: Record<string, any>): string => choicesText(body, 'message')

/** The text a stream chunk adds (delta content, legacy `text`, tool-call arguments). */
export const chunkText = (chunk: Record<string, any>): string => choicesText(chunk, 'delta')

/** The body of a non-JSON (or unrecognised) upstream error: its text, else a generic message. */
export function plainErrorMessage(status: number, text: string): string {
  let message = text.trim()
  try {
    const parsed = JSON.parse(text)
    if (typeof parsed === 'string') message = parsed.trim()
  } catch {}
  return message || `Upstream returned HTTP ${status}`
}

/** An upstream error body as OpenAI's envelope: kept when it already is one, wrapped otherwise. */
export function openAiErrorBody(status: number, text: string): { error: OpenAiError } | Record<string, unknown> {
  try {
    const parsed = JSON.parse(text)
    if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object') return parsed
  } catch {}
  return { error: { message: plainErrorMessage(status, text), type: 'upstream_error', param: null, code: status } }
}

/**
 * The `error.type` a client sees for an upstream status when the provider's own error has none that fits
 * OpenAI's shape: the contract's names (§1) where one exists, `upstream_error` otherwise.
 */
export function errorTypeForStatus(status: number): string {
  if (status === 404) return 'not_found_error'
  if (status === 408) return 'timeout'
  if (status === 429) return 'rate_limit_error'
  if (status === 503) return 'service_unavailable'
  if (status >= 400 && status < 500) return 'invalid_request_error'
  return 'upstream_error'
}
