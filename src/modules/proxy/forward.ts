/**
 * One attempt against one deployment (§6.1): the provider builds the request, Tollgate sends it on a pooled
 * keep-alive connection, bounded by the timeout the router chose; a non-stream answer is read whole, a stream
 * stops at the first byte of its body (so a stream that never starts is a timeout the router may retry, and
 * nothing has reached the client before the router is done). Every failure is classified (what a retry decision needs) and mapped to what the client
 * receives: the upstream's status and OpenAI error body, except 401/403 → 502 `upstream_auth_error` and a
 * timeout → 408. The deployment's api key never reaches an error, a log line or a response.
 */
import type { ModelTarget } from '../../deployments/catalog'
import { upstreamModelFor, type Deployment } from '../../deployments/deployment'
import type { ProviderRegistry } from '../../providers/registry'
import { ProviderRequestError, type HttpRequestSpec, type Operation, type Provider, type UpstreamCall } from '../../providers/types'
import { isContextWindowError } from '../../routing/policy'
import type { AttemptFailure, AttemptOptions, AttemptResult } from '../../routing/router'
import type { UsageError } from '../../usage/record'
import { forwardedBody, type ProxyBody } from './model'

export type ForwardContext = {
  readonly providers: ProviderRegistry
  readonly operation: Operation
  readonly body: ProxyBody
  readonly stream: boolean
  readonly bodyOverrides: Readonly<Record<string, unknown>>
  /** Streams only: the client's signal; the upstream call is aborted when it fires before the first byte. */
  readonly clientSignal: AbortSignal | null
}

/** A 2xx answer. For a stream, `abort` stops the upstream body later (client disconnect). */
export type UpstreamAnswer = {
  readonly call: UpstreamCall
  readonly provider: Provider
  readonly response: Response
  /** The whole body (non-stream), null for a stream (whose `response.body` starts with the first chunk read). */
  readonly text: string | null
  readonly abort: AbortController
  /** performance.now() when the request was sent and when the answer (headers for streams, body otherwise) arrived. */
  readonly sentAt: number
  readonly answeredAt: number
}

/** A failed attempt and the answer the client gets if no later attempt succeeds. */
export type UpstreamFailure = AttemptFailure & {
  readonly clientStatus: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly error: UsageError
  readonly upstreamModel: string
  readonly durationMs: number
}

/** A failure whose answer Tollgate words itself (timeouts, unreachable or misconfigured upstreams …). */
export type GatewayFailure = Omit<UpstreamFailure, 'upstreamModel' | 'durationMs'>

export function gatewayFailure(
  cause: Pick<AttemptFailure, 'kind' | 'status' | 'retryAfterSeconds'>,
  clientStatus: number,
  type: string,
  message: string,
  errorClass: string,
  headers: Readonly<Record<string, string>> = {},
): GatewayFailure {
  return {
    ...cause,
    clientStatus,
    body: { error: { message, type, param: null, code: clientStatus } },
    headers,
    error: { type, message, status: clientStatus, errorClass },
  }
}

/** Removes the deployment's credential from upstream text (some providers echo a key back in their errors). */
function scrub(text: string, secret: string | null): string {
  return secret && secret.length >= 4 ? text.replaceAll(secret, '****') : text
}

function errorInfo(body: unknown, status: number, fallbackType: string): UsageError {
  const error = (body as { error?: { message?: unknown; type?: unknown } })?.error
  const type = typeof error?.type === 'string' ? error.type : fallbackType
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`
  return { type, message, status, errorClass: `UpstreamError${status}` }
}

function retryAfterOf(response: Response): number | null {
  const value = response.headers.get('retry-after')
  if (value === null) return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000)
}

export function createAttempt(context: ForwardContext) {
  return async (deployment: Deployment, target: ModelTarget, options: AttemptOptions): Promise<AttemptResult<UpstreamAnswer, UpstreamFailure>> => {
    const upstreamModel = upstreamModelFor(deployment, target.modelGroup)
    const started = performance.now()
    const fail = (failure: GatewayFailure) => ({
      ok: false as const,
      failure: { ...failure, upstreamModel, durationMs: performance.now() - started },
    })
    const provider = context.providers.get(deployment.provider)
    if (!provider) {
      const message = `Provider '${deployment.provider}' is not available in this build (model=${target.modelGroup})`
      return fail(gatewayFailure({ kind: 'http', status: 501, retryAfterSeconds: null }, 501, 'provider_not_supported', message, 'ProviderNotSupported'))
    }
    const call: UpstreamCall = {
      operation: context.operation,
      deployment,
      upstreamModel,
      body: forwardedBody(context.body, upstreamModel, context.stream, context.bodyOverrides),
      stream: context.stream,
    }
    let spec: HttpRequestSpec
    try {
      spec = provider.buildRequest(call)
    } catch (error) {
      if (!(error instanceof ProviderRequestError)) throw error
      const failure = gatewayFailure({ kind: 'http', status: 400, retryAfterSeconds: null }, 400, 'invalid_request_error', error.message, 'BadRequestError')
      return fail({ ...failure, body: { error: { message: error.message, type: 'invalid_request_error', param: error.param, code: 400 } } })
    }
    const abort = new AbortController()
    const { timeoutSeconds } = options
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      abort.abort()
    }, timeoutSeconds * 1000)
    const onClientGone = () => abort.abort()
    context.clientSignal?.addEventListener('abort', onClientGone, { once: true })
    if (context.clientSignal?.aborted) abort.abort()
    const done = () => {
      clearTimeout(timer)
      context.clientSignal?.removeEventListener('abort', onClientGone)
    }

    const sentAt = performance.now()
    let response: Response
    let text: string | null = null
    try {
      response = await fetch(spec.url, { method: 'POST', headers: spec.headers, body: spec.body, signal: abort.signal })
      if (!response.ok || !context.stream) text = await response.text()
      else response = await withFirstChunk(response)
    } catch (error) {
      done()
      if (timedOut) {
        const message = `Request timed out after ${timeoutSeconds} seconds (model=${target.modelGroup})`
        return fail(gatewayFailure({ kind: 'timeout', status: 408, retryAfterSeconds: null }, 408, 'timeout', message, 'Timeout'))
      }
      if (context.clientSignal?.aborted) {
        const message = 'The client disconnected before the upstream answered'
        return fail(gatewayFailure({ kind: 'cancelled', status: null, retryAfterSeconds: null }, 499, 'client_disconnected', message, 'ClientDisconnected'))
      }
      const reason = (error as { code?: unknown })?.code
      const message = `Could not reach the upstream for model=${target.modelGroup}${typeof reason === 'string' ? ` (${reason})` : ''}`
      return fail(gatewayFailure({ kind: 'connection', status: null, retryAfterSeconds: null }, 502, 'upstream_connection_error', message, 'APIConnectionError'))
    }
    // A stream keeps its timer only until its first byte: its body may legitimately run longer than the timeout.
    done()

    if (!response.ok) {
      const status = response.status
      const retryAfterSeconds = retryAfterOf(response)
      const headers: Record<string, string> = {}
      if (response.headers.has('retry-after')) headers['retry-after'] = response.headers.get('retry-after')!
      if (status === 401 || status === 403) {
        const message = `The upstream refused the gateway's credentials for model=${target.modelGroup} (deployment ${deployment.id}, HTTP ${status}); check its api_key in config.yaml`
        return fail(gatewayFailure({ kind: 'http', status, retryAfterSeconds }, 502, 'upstream_auth_error', message, 'UpstreamAuthError', headers))
      }
      const mapped = provider.mapError(call, status, scrub(text ?? '', deployment.apiKey))
      return fail({
        kind: 'http',
        status,
        retryAfterSeconds,
        contextWindowExceeded: isContextWindowError(status, mapped.body),
        clientStatus: mapped.status,
        body: mapped.body,
        headers,
        error: errorInfo(mapped.body, mapped.status, 'upstream_error'),
      })
    }
    return { ok: true, value: { call, provider, response, text, abort, sentAt, answeredAt: performance.now() } }
  }
}

/**
 * Waits for a stream's first chunk (rejecting, like `fetch`, when the attempt is aborted) and returns a response
 * whose body yields that chunk and then the rest, pulled on demand.
 */
async function withFirstChunk(response: Response): Promise<Response> {
  if (!response.body) return response
  const reader = response.body.getReader()
  const first = await reader.read()
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (first.done) controller.close()
        else controller.enqueue(first.value)
      },
      async pull(controller) {
        const next = await reader.read()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}
