/**
 * Azure OpenAI: OpenAI's shapes on Azure's paths. `azure/<deployment>` is sent to
 * `{api_base}/openai/deployments/{deployment}/{route}?api-version={api_version}` with an `api-key` header;
 * answers and chunks are OpenAI's and pass through unchanged. What differs is the errors: Azure words most of
 * its own as `{"error": {"code": "429", "message": …}}` (no type, the status as a string), and content-filter
 * refusals as `code: "content_filter"` with the filter results inside; both become OpenAI's envelope.
 */
import { errorTypeForStatus, plainErrorMessage } from '../openai-format'
import { jsonRequestHeaders, trimBase } from '../http'
import { OPENAI_ROUTES, openAiProvider, openAiStreamDecoder } from '../openai'
import type { MappedError, OpenAiError, Provider, UpstreamCall } from '../types'

/**
 * The first api-version that accepts `stream_options` (2024-09-01-preview; GA from 2024-10-21). Older ones
 * refuse the whole request with "Unrecognized request argument supplied: stream_options", so Tollgate does
 * not send it there and the usage of those streams is estimated.
 */
const FIRST_STREAM_USAGE_VERSION = '2024-09-01'

export function acceptsStreamOptions(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1]
  return date === undefined || date >= FIRST_STREAM_USAGE_VERSION
}

const isObject = (value: unknown): value is Record<string, any> => !!value && typeof value === 'object' && !Array.isArray(value)

/** The categories a content filter flagged (`hate`, `jailbreak` …), from Azure's `content_filter_result`. */
function filteredCategories(error: Record<string, any>): string[] {
  const results = error.innererror?.content_filter_result ?? error.innererror?.content_filter_results
  if (!isObject(results)) return []
  return Object.entries(results)
    .filter(([, result]) => isObject(result) && result.filtered === true)
    .map(([category]) => category)
}

/** Azure's `error` object as OpenAI's; null when it is already OpenAI's (it has a `type`), to keep it as sent. */
function normalizedError(error: Record<string, any>, status: number | null): OpenAiError | null {
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : null
  const param = typeof error.param === 'string' ? error.param : null
  if (error.code === 'content_filter') {
    const categories = filteredCategories(error)
    const detail = categories.length > 0 ? ` (filtered: ${categories.join(', ')})` : ''
    const text = `${message ?? "The request was filtered by Azure OpenAI's content management policy"}${detail}`
    return { message: text, type: 'content_policy_violation', param, code: status ?? 400 }
  }
  if (typeof error.type === 'string' && error.type !== '') return null
  // Azure puts the HTTP status in `code` as a string ("429"); in a stream that is the only status there is.
  const fromCode = typeof error.code === 'string' && /^\d{3}$/.test(error.code) ? Number(error.code) : null
  const effective = status ?? fromCode ?? 500
  return { message: message ?? `Azure OpenAI returned HTTP ${effective}`, type: errorTypeForStatus(effective), param, code: effective }
}

export function azureErrorBody(status: number, text: string): MappedError['body'] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {}
  if (isObject(parsed) && isObject(parsed.error)) {
    const error = normalizedError(parsed.error, status)
    return error ? { error } : parsed
  }
  // API Management in front of Azure OpenAI answers `{"statusCode": 429, "message": "Rate limit is exceeded …"}`.
  const message = isObject(parsed) && typeof parsed.message === 'string' ? parsed.message : plainErrorMessage(status, text)
  return { error: { message, type: errorTypeForStatus(status), param: null, code: status } }
}

function streamError(error: Record<string, any>): OpenAiError {
  const normalized = normalizedError(error, null)
  if (normalized) return normalized
  return { message: String(error.message ?? 'upstream error'), type: String(error.type), param: error.param ?? null, code: error.code ?? null }
}

function requestBody(call: UpstreamCall, apiVersion: string): string {
  if (!call.stream || !('stream_options' in call.body) || acceptsStreamOptions(apiVersion)) return JSON.stringify(call.body)
  const { stream_options: _dropped, ...rest } = call.body
  return JSON.stringify(rest)
}

export const azureProvider: Provider = {
  name: 'azure',
  buildRequest(call) {
    const { apiBase, apiKey, apiVersion } = call.deployment
    // Config load refuses an azure deployment without these three (config/providers.ts).
    if (!apiBase || !apiKey || !apiVersion) throw new Error(`azure deployment ${call.deployment.id} lacks api_base, api_key or api_version`)
    const path = `/openai/deployments/${encodeURIComponent(call.upstreamModel)}${OPENAI_ROUTES[call.operation]}`
    return {
      url: `${trimBase(apiBase)}${path}?api-version=${encodeURIComponent(apiVersion)}`,
      headers: { ...jsonRequestHeaders(call.stream), 'api-key': apiKey },
      body: requestBody(call, apiVersion),
    }
  },
  parseResponse: openAiProvider.parseResponse,
  streamDecoder: () => openAiStreamDecoder(streamError),
  mapError: (_call, status, text) => ({ status, body: azureErrorBody(status, text) }),
}
