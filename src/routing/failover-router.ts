/**
 * The router of §6.8. For the requested model group, then for each fallback group:
 *
 * 1. the candidates: the group's deployments that tag routing allows, minus those cooling down;
 * 2. a pick by the strategy, preferring deployments that have not failed this request; the pick is counted
 *    against its own rpm (skipped, and another picked, when it is at its rpm/tpm);
 * 3. the attempt; a failure counts towards the deployment's cooldown and, when retryable, is retried (up to
 *    `num_retries` per group, after a backoff when going back to a deployment that already failed);
 * 4. when the group gives up, its fallbacks (the client's `fallbacks`, else the configured ones; on a context-
 *    window error `context_window_fallbacks`), each only if the principal may use it.
 *
 * The proxy's attempt stops at a stream's first byte, so none of this ever happens once a client has received
 * part of an answer. When no attempt could be made at all, `route` throws the 429 `No deployments available…`.
 */
import type { ModelTarget } from '../deployments/catalog'
import type { Deployment } from '../deployments/deployment'
import type { RateCounters } from '../governance/rate-limits/store'
import { ApiError } from '../http/errors'
import type { Clock } from '../lib/clock'
import { pythonList } from '../lib/python-float'
import type { Logger } from '../lib/logger'
import { Cooldowns, type DeploymentState } from './cooldowns'
import { DeploymentLimits } from './deployment-limits'
import { backoffMs, countsAgainstDeployment, fallsBack, isRetryable } from './policy'
import type { Attempt, AttemptFailure, AttemptResult, DeploymentSelector, RoutePlan, Routed, Router } from './router'
import { attemptTimeoutSeconds, configuredFallbacks, type RoutingSettings } from './settings'
import { selectorFor, type Random } from './strategies'
import { noTaggedDeployment, tagEligible } from './tags'

export type Sleep = (ms: number, signal: AbortSignal | null) => Promise<void>

export type FailoverRouterOptions = {
  readonly settings: RoutingSettings
  readonly clock: Clock
  readonly log: Logger
  /** Where deployments' rpm/tpm are counted (the rate limiter's store: shared with Redis). */
  readonly counters: RateCounters
  /** Receives `litellm_deployment_state` changes. */
  readonly onDeploymentState?: (deployment: Deployment, state: DeploymentState) => void
  readonly random?: Random
  /** Waits between retries (tests: record and return at once). */
  readonly sleep?: Sleep
}

/** Resolves after `ms`, or as soon as `signal` fires. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })

/** Why a group could take no (further) attempt. */
type Unavailable = {
  /** No deployment of the group may serve the request's tags. */
  readonly noTagMatch: boolean
  /** Ids of deployments cooling down. */
  readonly cooling: readonly string[]
  /** Seconds until the first skipped deployment could be used again. */
  readonly retryAfterSeconds: number
}

type Picked = { readonly deployment: Deployment } | { readonly unavailable: Unavailable }

type Failed<F> = { readonly deployment: Deployment; readonly target: ModelTarget; readonly failure: F }

/** What one request's routing has done so far. */
type Progress<F> = { retries: number; fallbacks: number; last: Failed<F> | null }

type GroupOutcome<T> =
  | { readonly kind: 'answered'; readonly value: T; readonly deployment: Deployment; readonly target: ModelTarget }
  | { readonly kind: 'failed' }
  | { readonly kind: 'unavailable'; readonly unavailable: Unavailable }

export class FailoverRouter implements Router {
  private readonly cooldowns: Cooldowns
  private readonly limits: DeploymentLimits
  private readonly selector: DeploymentSelector
  private readonly busy = new Map<string, number>()
  private readonly random: Random
  private readonly sleep: Sleep

  constructor(private readonly options: FailoverRouterOptions) {
    const { settings, clock } = options
    this.random = options.random ?? Math.random
    this.sleep = options.sleep ?? realSleep
    this.cooldowns = new Cooldowns({
      clock,
      allowedFails: settings.allowedFails,
      cooldownMs: settings.cooldownMs,
      onState: (deployment, state) => options.onDeploymentState?.(deployment, state),
    })
    this.limits = new DeploymentLimits(options.counters, options.log)
    this.selector = selectorFor(settings.strategy, (deployment) => this.inFlight(deployment), this.random)
  }

  /** Requests in flight on a deployment on this instance (what `least-busy` compares). */
  inFlight(deployment: Deployment): number {
    return this.busy.get(deployment.id) ?? 0
  }

  async route<T, F extends AttemptFailure>(plan: RoutePlan, attempt: Attempt<T, F>): Promise<Routed<T, F>> {
    const progress: Progress<F> = { retries: 0, fallbacks: 0, last: null }
    const primary = await this.runGroup(plan.target, plan, attempt, progress)
    if (primary.kind === 'answered') return this.answered(primary, progress)

    const last = progress.last
    if (primary.kind === 'unavailable' || (last && fallsBack(last.failure))) {
      const tried = new Set([plan.target.modelGroup])
      for (const name of this.fallbackNames(plan, last?.failure ?? null)) {
        if (plan.signal?.aborted) break
        const target = plan.resolve(name)
        if (!target || tried.has(target.modelGroup)) continue
        tried.add(target.modelGroup)
        progress.fallbacks++
        const outcome = await this.runGroup(target, plan, attempt, progress)
        if (outcome.kind === 'answered') return this.answered(outcome, progress)
        if (outcome.kind === 'failed' && !fallsBack(progress.last!.failure)) break
      }
    }

    if (progress.last) {
      const { deployment, target, failure } = progress.last
      return { ok: false, failure, deployment, target, attemptedRetries: progress.retries, attemptedFallbacks: progress.fallbacks, finish: () => {} }
    }
    if (primary.kind !== 'unavailable') throw new Error('router: a group failed without an attempt')
    if (primary.unavailable.noTagMatch) throw noTaggedDeployment(plan.target.modelGroup, plan.tags)
    throw noDeploymentsAvailable(plan.target.modelGroup, primary.unavailable)
  }

  private fallbackNames(plan: RoutePlan, failure: AttemptFailure | null): readonly string[] {
    const group = plan.target.modelGroup
    if (failure?.contextWindowExceeded) return configuredFallbacks(this.options.settings.contextWindowFallbacks, group)
    return plan.fallbacks.length > 0 ? plan.fallbacks : configuredFallbacks(this.options.settings.fallbacks, group)
  }

  /** Attempts on one model group: the first try and up to `num_retries` retries. */
  private async runGroup<T, F extends AttemptFailure>(
    target: ModelTarget,
    plan: RoutePlan,
    attempt: Attempt<T, F>,
    progress: Progress<F>,
  ): Promise<GroupOutcome<T>> {
    /** Deployments that failed in this group, with their last failure (for `Retry-After`). */
    const failed = new Map<string, F>()
    for (let retry = 0; ; retry++) {
      const picked = await this.pick(target, plan, failed, retry)
      if ('unavailable' in picked) return { kind: 'unavailable', unavailable: picked.unavailable }
      if (retry > 0) {
        // The client left during the backoff: the last failure stands.
        if (plan.signal?.aborted) return { kind: 'failed' }
        progress.retries++
      }
      const { deployment } = picked
      const result = await this.attemptOn(deployment, target, plan, attempt)
      if (result.ok) return { kind: 'answered', value: result.value, deployment, target }
      progress.last = { deployment, target, failure: result.failure }
      failed.set(deployment.id, result.failure)
      if (!isRetryable(result.failure) || retry >= this.options.settings.numRetries) return { kind: 'failed' }
    }
  }

  /**
   * The deployment for the next attempt, counted against its rpm; before a retry on a deployment that already
   * failed, waits the backoff. Unavailable when tags, cooldowns and rpm/tpm leave nothing.
   */
  private async pick<F extends AttemptFailure>(target: ModelTarget, plan: RoutePlan, failed: ReadonlyMap<string, F>, retry: number): Promise<Picked> {
    const { settings } = this.options
    const eligible = settings.tagFiltering ? tagEligible(target.deployments, plan.tags) : target.deployments
    if (eligible.length === 0) return { unavailable: { noTagMatch: true, cooling: [], retryAfterSeconds: 1 } }
    const cooling: string[] = []
    let waitSeconds = Infinity
    let candidates = eligible.filter((deployment) => {
      const remaining = this.cooldowns.remainingMs(deployment)
      if (remaining === 0) return true
      cooling.push(deployment.id)
      waitSeconds = Math.min(waitSeconds, Math.ceil(remaining / 1000))
      return false
    })
    let waited = false
    while (candidates.length > 0) {
      const fresh = candidates.filter((deployment) => !failed.has(deployment.id))
      const deployment = this.selector.select(fresh.length > 0 ? fresh : candidates)
      const previous = failed.get(deployment.id)
      if (previous && !waited) {
        waited = true
        await this.sleep(backoffMs(retry, previous, this.random), plan.signal)
      }
      const limitedFor = await this.limits.admit(deployment)
      if (limitedFor === null) return { deployment }
      waitSeconds = Math.min(waitSeconds, limitedFor)
      candidates = candidates.filter((candidate) => candidate !== deployment)
    }
    return { unavailable: { noTagMatch: false, cooling, retryAfterSeconds: Math.max(1, waitSeconds === Infinity ? 1 : waitSeconds) } }
  }

  private async attemptOn<T, F extends AttemptFailure>(
    deployment: Deployment,
    target: ModelTarget,
    plan: RoutePlan,
    attempt: Attempt<T, F>,
  ): Promise<AttemptResult<T, F>> {
    this.busy.set(deployment.id, this.inFlight(deployment) + 1)
    let result: AttemptResult<T, F>
    try {
      result = await attempt(deployment, target, { timeoutSeconds: attemptTimeoutSeconds(this.options.settings, deployment, plan.stream) })
    } catch (error) {
      this.release(deployment)
      throw error
    }
    if (result.ok) {
      this.cooldowns.recordSuccess(deployment)
      return result
    }
    this.release(deployment)
    if (countsAgainstDeployment(result.failure)) this.cooldowns.recordFailure(deployment)
    return result
  }

  private release(deployment: Deployment): void {
    const count = this.inFlight(deployment) - 1
    if (count > 0) this.busy.set(deployment.id, count)
    else this.busy.delete(deployment.id)
  }

  private answered<T, F extends AttemptFailure>(outcome: Extract<GroupOutcome<T>, { kind: 'answered' }>, progress: Progress<F>): Routed<T, F> {
    const { deployment, target, value } = outcome
    let finished = false
    return {
      ok: true,
      value,
      deployment,
      target,
      attemptedRetries: progress.retries,
      attemptedFallbacks: progress.fallbacks,
      finish: (totalTokens) => {
        if (finished) return
        finished = true
        this.release(deployment)
        void this.limits.addTokens(deployment, totalTokens)
      },
    }
  }
}

/** §6.8: every deployment of the group is cooling down or past its own rpm/tpm. */
export function noDeploymentsAvailable(model: string, unavailable: Unavailable): ApiError {
  const seconds = unavailable.retryAfterSeconds
  return new ApiError(
    429,
    'rate_limit_error',
    `No deployments available for selected model, Try again in ${seconds} seconds. Passed model=${model}. pre-call-checks=True, cooldown_list=${pythonList(unavailable.cooling)}`,
    null,
    { 'retry-after': String(seconds) },
  )
}
