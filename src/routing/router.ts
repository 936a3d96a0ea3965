/**
 * Which deployment serves a request, and what happens when it fails. The proxy hands the router a plan (the
 * model group's deployments) and an `attempt` function that calls one deployment up to its response headers;
 * the router decides which deployments to try and in what order. It does no I/O of its own.
 *
 * For now: one attempt on one deployment picked from the group. Load balancing by weight, retries with
 * backoff, fallbacks to other model groups and cooldowns (§6.8) plug in here without touching the proxy:
 * implement `Router` (and/or `DeploymentSelector`) and pass it to `createDataPlane`.
 */
import type { ModelTarget } from '../deployments/catalog'
import type { Deployment } from '../deployments/deployment'

export type RoutePlan = {
  readonly requestId: string
  readonly requestedModel: string
  readonly target: ModelTarget
  readonly tags: readonly string[]
  /** Client-side `fallbacks` (model names), in order. */
  readonly fallbacks: readonly string[]
  /**
   * Resolves another model name for a fallback, with the principal's model access applied; null when the
   * principal may not use it or nothing serves it.
   */
  resolve(name: string): ModelTarget | null
}

/** Why an attempt failed, in the terms retry and fallback decisions need. */
export type AttemptFailure = {
  /** `cancelled`: the client went away while waiting; never retried. */
  readonly kind: 'http' | 'timeout' | 'connection' | 'cancelled'
  /** The upstream's HTTP status (`http`), 408 (`timeout`), or null (`connection`, `cancelled`). */
  readonly status: number | null
  /** The upstream's `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number | null
}

export type AttemptResult<T, F extends AttemptFailure> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: F }

/** One call of one deployment, serving `target` (the deployment's group, or a fallback's). */
export type Attempt<T, F extends AttemptFailure> = (deployment: Deployment, target: ModelTarget) => Promise<AttemptResult<T, F>>

export type Routed<T, F extends AttemptFailure> = (
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: F }
) & {
  /** The deployment of the last attempt (the one that answered, or the last that failed). */
  readonly deployment: Deployment
  readonly target: ModelTarget
  readonly attemptedRetries: number
  readonly attemptedFallbacks: number
}

export interface Router {
  route<T, F extends AttemptFailure>(plan: RoutePlan, attempt: Attempt<T, F>): Promise<Routed<T, F>>
}

export interface DeploymentSelector {
  /** Picks one of `candidates` (never empty) for the next attempt. */
  select(candidates: readonly Deployment[], plan: RoutePlan): Deployment
}

/** Any deployment of the group, uniformly at random. */
export const uniformSelector: DeploymentSelector = {
  select: (candidates) => candidates[candidates.length === 1 ? 0 : Math.floor(Math.random() * candidates.length)],
}

/** One attempt, no retries, no fallbacks. */
export function createSingleAttemptRouter(selector: DeploymentSelector = uniformSelector): Router {
  return {
    async route(plan, attempt) {
      const deployment = selector.select(plan.target.deployments, plan)
      const result = await attempt(deployment, plan.target)
      return { ...result, deployment, target: plan.target, attemptedRetries: 0, attemptedFallbacks: 0 }
    },
  }
}
