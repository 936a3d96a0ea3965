/**
 * Which deployment serves a request, and what happens when it fails (§6.8). The proxy hands the router a plan
 * (the model group, the request's tags, the client's fallbacks) and an `attempt` function that calls one
 * deployment — a non-stream call up to its whole body, a stream up to its first byte; the router decides which
 * deployments to try, in what order, with which timeout, and when to give up. It does no I/O of its own.
 *
 * The implementation is `FailoverRouter` (failover-router.ts): load balancing, retries with backoff, fallbacks,
 * cooldowns, deployment rpm/tpm and tag routing.
 */
import type { ModelTarget } from '../deployments/catalog'
import type { Deployment } from '../deployments/deployment'

export type RoutePlan = {
  readonly requestId: string
  readonly requestedModel: string
  readonly target: ModelTarget
  readonly stream: boolean
  readonly tags: readonly string[]
  /** Client-side `fallbacks` (model names), in order; when given they replace the configured ones. */
  readonly fallbacks: readonly string[]
  /**
   * Resolves another model name for a fallback, with the principal's model access applied; null when the
   * principal may not use it or nothing serves it.
   */
  resolve(name: string): ModelTarget | null
  /** Fires when the client goes away: no further attempt is started and a backoff wait ends. */
  readonly signal: AbortSignal | null
}

/** Why an attempt failed, in the terms retry and fallback decisions need. */
export type AttemptFailure = {
  /** `cancelled`: the client went away while waiting; never retried. */
  readonly kind: 'http' | 'timeout' | 'connection' | 'cancelled'
  /** The upstream's HTTP status (`http`), 408 (`timeout`), or null (`connection`, `cancelled`). */
  readonly status: number | null
  /** The upstream's `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number | null
  /** The upstream said the prompt does not fit the model's context window (`context_window_fallbacks`). */
  readonly contextWindowExceeded?: boolean
}

export type AttemptResult<T, F extends AttemptFailure> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: F }

/** What the router decides for one attempt. */
export type AttemptOptions = {
  /** Non-stream: the whole call; stream: until the first byte of the body. */
  readonly timeoutSeconds: number
}

/** One call of one deployment, serving `target` (the deployment's group, or a fallback's). */
export type Attempt<T, F extends AttemptFailure> = (deployment: Deployment, target: ModelTarget, options: AttemptOptions) => Promise<AttemptResult<T, F>>

export type Routed<T, F extends AttemptFailure> = (
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: F }
) & {
  /** The deployment of the last attempt (the one that answered, or the last that failed). */
  readonly deployment: Deployment
  readonly target: ModelTarget
  readonly attemptedRetries: number
  readonly attemptedFallbacks: number
  /**
   * The request is over (response sent, stream ended or abandoned): the answering deployment is no longer busy
   * and its tokens count against its own `tpm`. Call once; later calls do nothing.
   */
  finish(totalTokens: number): void
}

export interface Router {
  /**
   * Tries deployments until one answers or the policy gives up (then the last failure is returned). Throws
   * an ApiError only when no attempt could be made at all: 429 `No deployments available …` (every candidate
   * cooling down or past its own rpm/tpm) or 400 when tag routing leaves no deployment for the request.
   */
  route<T, F extends AttemptFailure>(plan: RoutePlan, attempt: Attempt<T, F>): Promise<Routed<T, F>>
}

export interface DeploymentSelector {
  /** Picks one of `candidates` (never empty) for the next attempt. */
  select(candidates: readonly Deployment[]): Deployment
}
