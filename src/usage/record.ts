/**
 * The usage record: everything known about one finished data-plane request, produced exactly once per request
 * that reached the forwarding step (success, upstream failure, timeout, client disconnect), and handed to the
 * one `UsageSink`. Spend accounting turns it into a spend-log row and spend increments; metrics read their
 * labels from it. Requests refused before forwarding (bad input, credentials, model access, admission) produce
 * none.
 */

/** LiteLLM's `call_type` values for the three routes. */
export type CallType = 'acompletion' | 'atext_completion' | 'aembedding'

export type UsageStatus = 'success' | 'failure' | 'client_disconnected'

export type UsageError = {
  /** The error type the client saw (`upstream_auth_error`, `timeout`, `rate_limit_exceeded` …). */
  readonly type: string
  readonly message: string
  /** The status of the failure (the upstream's, 408 for a timeout, 502 for a lost connection). */
  readonly status: number
  /** A class-like name for metrics (`exception_class`). */
  readonly errorClass: string
}

export type UsageRecord = {
  /** The gateway's UUID for the request (also sent as `x-litellm-call-id`); the spend log's primary key. */
  readonly requestId: string
  /** The upstream's response id (`chatcmpl-…`), when it sent one. */
  readonly responseId: string | null
  readonly callType: CallType
  readonly stream: boolean
  /** sha256 of the virtual key; '' for admin credentials and JWTs. */
  readonly keyHash: string
  readonly keyAlias: string | null
  readonly userId: string | null
  readonly teamId: string | null
  readonly teamAlias: string | null
  readonly organizationId: string | null
  /** The end user (`user` field or mapped header). */
  readonly endUser: string | null
  readonly tags: readonly string[]
  /** The model name the client sent. */
  readonly requestedModel: string
  /** The model group the request was served as (after alias rewrite). */
  readonly modelGroup: string
  /** The model name sent upstream (without provider prefix). */
  readonly model: string
  readonly deploymentId: string
  readonly provider: string
  readonly apiBase: string | null
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
  readonly cachedPromptTokens: number
  /** Tokens were estimated (no usage from upstream, or a disconnect). */
  readonly usageEstimated: boolean
  /** USD; 0 for failures and unpriced deployments. */
  readonly cost: number
  /** Whether a price was known for the deployment (false → `cost` is 0 because no price is configured). */
  readonly priced: boolean
  readonly status: UsageStatus
  /** The HTTP status the client received (200 for a stream that failed after its first byte). */
  readonly httpStatus: number
  readonly error: UsageError | null
  readonly startTime: Date
  readonly endTime: Date
  /** First chunk of a stream (the completion start), or null. */
  readonly completionStartTime: Date | null
  /** Time spent waiting on the upstream, ms (for the overhead metric). */
  readonly upstreamDurationMs: number | null
  readonly attemptedRetries: number
  readonly attemptedFallbacks: number
  readonly requesterIp: string | null
  /** `metadata.spend_logs_metadata` of the team, key and request, merged in that order. */
  readonly spendLogsMetadata: Readonly<Record<string, unknown>> | null
}
