/**
 * The data plane's request bodies. They are checked by hand rather than by a zod schema: the body is forwarded
 * as the client wrote it (unknown fields included), so only the fields Tollgate reads are checked, and the
 * parsed object is not copied. Problems read like the management API's 422s: `"{field}: {problem}"`.
 */
import type { Operation } from '../../providers/types'
import type { CallType } from '../../usage/record'
import { invalidRequest, unprocessable } from '../../http/errors'

export type ProxyBody = Record<string, unknown> & { model: string }

export const CALL_TYPES: Record<Operation, CallType> = { chat: 'acompletion', completion: 'atext_completion', embedding: 'aembedding' }

/** Fields Tollgate consumes; they are never forwarded. */
export const CONSUMED_FIELDS: readonly string[] = ['metadata', 'litellm_metadata', 'fallbacks', 'tags']

/** Client-supplied routing and credential parameters, refused at any depth (§6.1, CVE-2024-6587). */
const FORBIDDEN_PARAMS = new Set(['api_base', 'base_url', 'api_key', 'api_version', 'extra_headers', 'custom_llm_provider'])

/** The first forbidden parameter name found as an object key anywhere in `value`, or null. */
export function findForbiddenParam(value: unknown): string | null {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const current = stack.pop()
    if (!current || typeof current !== 'object') continue
    if (Array.isArray(current)) {
      for (const item of current) if (item && typeof item === 'object') stack.push(item)
      continue
    }
    for (const key in current as Record<string, unknown>) {
      if (FORBIDDEN_PARAMS.has(key)) return key
      const item = (current as Record<string, unknown>)[key]
      if (item && typeof item === 'object') stack.push(item)
    }
  }
  return null
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value)

function checkMessages(messages: unknown): void {
  if (messages === undefined) throw unprocessable('messages: field required', 'messages')
  if (!Array.isArray(messages)) throw unprocessable('messages: expected array', 'messages')
  messages.forEach((message, index) => {
    const at = `messages[${index}]`
    if (!isObject(message)) throw unprocessable(`${at}: expected object`, at)
    if (typeof message.role !== 'string' || message.role === '') {
      throw unprocessable(`${at}.role: ${message.role === undefined ? 'field required' : 'expected string'}`, `${at}.role`)
    }
    const content = message.content
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw unprocessable(`${at}.content: expected string, array or null`, `${at}.content`)
    }
  })
}

function checkInput(field: 'prompt' | 'input', value: unknown): void {
  if (value === undefined || value === null) throw unprocessable(`${field}: field required`, field)
  if (typeof value !== 'string' && !Array.isArray(value)) throw unprocessable(`${field}: expected string or array`, field)
}

function checkOptional(body: Record<string, unknown>): void {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw unprocessable('stream: expected boolean', 'stream')
  if (body.stream_options !== undefined && body.stream_options !== null && !isObject(body.stream_options)) {
    throw unprocessable('stream_options: expected object', 'stream_options')
  }
  for (const field of ['metadata', 'litellm_metadata'] as const) {
    if (body[field] !== undefined && body[field] !== null && !isObject(body[field])) throw unprocessable(`${field}: expected object`, field)
  }
  for (const field of ['tags', 'fallbacks'] as const) {
    const value = body[field]
    if (value !== undefined && value !== null && (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))) {
      throw unprocessable(`${field}: expected array of strings`, field)
    }
  }
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string') throw unprocessable('user: expected string', 'user')
}

/** Checks a parsed body for `operation`: 422 for a wrong shape, 400 for a forbidden parameter. */
export function checkProxyBody(operation: Operation, body: unknown): asserts body is ProxyBody {
  if (!isObject(body)) throw unprocessable('body: the request body must be a JSON object')
  const forbiddenParam = findForbiddenParam(body)
  if (forbiddenParam) throw invalidRequest(`Parameter '${forbiddenParam}' is not allowed`, forbiddenParam)
  if (body.model === undefined || body.model === null) throw unprocessable('model: field required', 'model')
  if (typeof body.model !== 'string') throw unprocessable('model: expected string', 'model')
  if (body.model === '') throw unprocessable('model: must not be empty', 'model')
  if (operation === 'chat') checkMessages(body.messages)
  else checkInput(operation === 'completion' ? 'prompt' : 'input', operation === 'completion' ? body.prompt : body.input)
  checkOptional(body)
}

/** The body sent upstream: the client's fields minus the consumed ones, the upstream model, and admission overrides. */
export function forwardedBody(
  body: ProxyBody,
  upstreamModel: string,
  stream: boolean,
  overrides: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key in body) if (!CONSUMED_FIELDS.includes(key)) out[key] = body[key]
  out.model = upstreamModel
  if (stream) {
    const options = isObject(body.stream_options) ? body.stream_options : {}
    if (options.include_usage !== true) out.stream_options = { ...options, include_usage: true }
  }
  for (const key in overrides) out[key] = overrides[key]
  return out
}

/** Whether the client asked for the final usage chunk of a stream. */
export function clientWantsStreamUsage(body: ProxyBody): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true
}
