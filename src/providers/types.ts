/**
 * What every upstream adapter implements. The data plane speaks OpenAI's shapes on both sides; a provider
 * turns one OpenAI-shaped call into its own HTTP request (request out), turns its answer back into OpenAI's
 * JSON (response in) or chunks (stream events in), and its errors into OpenAI's error envelope (error mapping).
 * Providers do no I/O themselves: the proxy sends what `buildRequest` returns, so timeouts, aborts, retries and
 * accounting stay in one place for every provider.
 *
 * Adding a provider: a folder `src/providers/<name>/` exporting a `Provider`, and one line in `registry.ts`.
 */
import type { Deployment } from '../deployments/deployment'

export type Operation = 'chat' | 'completion' | 'embedding'

/** One upstream call, as the proxy hands it to a provider. */
export type UpstreamCall = {
  readonly operation: Operation
  readonly deployment: Deployment
  /** The model name to send upstream (the deployment's, with a wildcard filled in). */
  readonly upstreamModel: string
  /**
   * The OpenAI-shaped body to forward: the client's fields minus the ones Tollgate consumes, `model` set to
   * `upstreamModel`, `stream_options.include_usage` set for streams. Providers must not mutate it.
   */
  readonly body: Readonly<Record<string, unknown>>
  readonly stream: boolean
}

export type HttpRequestSpec = {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

export type TokenUsage = {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
  /** `prompt_tokens_details.cached_tokens` (priced at `cache_read_input_token_cost` when configured). */
  readonly cachedPromptTokens: number
}

/** A successful non-stream answer, already in OpenAI's shape. */
export type ProviderResponse = {
  /** The body sent to the client: the upstream's bytes unchanged when no translation was needed. */
  readonly bodyText: string
  readonly usage: TokenUsage | null
  readonly responseId: string | null
  /** The model the upstream says it used. */
  readonly model: string | null
  /** The generated text (for estimating tokens when the upstream reports no usage; computed on demand). */
  outputText(): string
}

export type OpenAiError = { message: string; type: string; param: string | null; code: unknown }

/**
 * Thrown by `buildRequest` when a request cannot be expressed in the provider's API (an operation it does not
 * offer, a message part it cannot carry). The proxy answers 400 `invalid_request_error` with this message and
 * records a failure; nothing is sent upstream.
 */
export class ProviderRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message)
    this.name = 'ProviderRequestError'
  }
}

/** One event of a stream, in OpenAI's chunk shape. */
export type StreamEvent =
  /** `raw` is the exact `data:` payload to forward when the chunk is unchanged (null after a translation). */
  | { readonly kind: 'chunk'; readonly chunk: Record<string, any>; readonly raw: string | null }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: OpenAiError }

export interface StreamDecoder {
  push(bytes: Uint8Array): StreamEvent[]
  /** The upstream body ended; returns what was still buffered. */
  end(): StreamEvent[]
}

/** An upstream error answer, mapped to the status and OpenAI-shaped body the client receives. */
export type MappedError = {
  readonly status: number
  readonly body: { error: OpenAiError } | Record<string, unknown>
}

export interface Provider {
  readonly name: string
  /** Request out. Throws `ProviderRequestError` for a request the provider cannot serve. */
  buildRequest(call: UpstreamCall): HttpRequestSpec
  /** Response in (2xx, non-stream). Throws when the upstream's body is not what the provider speaks. */
  parseResponse(call: UpstreamCall, text: string): ProviderResponse
  /** Stream events in (2xx, stream). */
  streamDecoder(call: UpstreamCall): StreamDecoder
  /** Error mapping (non-2xx): status and body as the provider's error becomes OpenAI's. */
  mapError(call: UpstreamCall, status: number, text: string): MappedError
}
