/**
 * Anthropic's errors in OpenAI's envelope. Anthropic words them `{"type": "error", "error": {"type", "message"}}`,
 * over HTTP and as an in-stream `event: error`. The status is kept (401/403 become 502 upstream_auth_error
 * before this is reached), except Anthropic's own 529 "overloaded", which becomes 503: SDKs, proxies and the
 * router know 503 as "temporarily unavailable, retry". The type is Anthropic's (`rate_limit_error`,
 * `overloaded_error` …), and `code` is the status as a number, as everywhere in Tollgate.
 */
import { errorTypeForStatus, plainErrorMessage } from '../openai-format'
import type { MappedError, OpenAiError } from '../types'
import { errorBodySchema } from './wire'

/** The HTTP status Anthropic gives each error type; a stream error has only its type. */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
}

export const clientStatusOf = (status: number): number => (status === 529 ? 503 : status)

export function anthropicErrorOf(status: number, text: string): MappedError {
  const clientStatus = clientStatusOf(status)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {}
  const parsed = errorBodySchema.safeParse(json)
  const error: OpenAiError = parsed.success
    ? { message: parsed.data.error.message, type: parsed.data.error.type, param: null, code: clientStatus }
    : { message: plainErrorMessage(status, text), type: errorTypeForStatus(clientStatus), param: null, code: clientStatus }
  return { status: clientStatus, body: { error } }
}

/** An in-stream `event: error` as the `{"error": …}` event the client receives. */
export function streamErrorOf(detail: { type: string; message: string }): OpenAiError {
  return { message: detail.message, type: detail.type, param: null, code: clientStatusOf(STATUS_OF_TYPE[detail.type] ?? 500) }
}
