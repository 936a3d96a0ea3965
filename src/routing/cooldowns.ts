/**
 * Deployment health on this instance (§6.8): failures are remembered for 60 s; the `allowed_fails`-th failure
 * within that minute rests the deployment for `cooldown_time`, during which the router skips it. The state of
 * every deployment that has been seen is reported as `litellm_deployment_state` (0 healthy, 1 partial outage —
 * failures but still serving, 2 cooling down). Time comes from the clock; no timers: a cooldown ends when a
 * request next looks at the deployment after its end.
 */
import type { Deployment } from '../deployments/deployment'
import type { Clock } from '../lib/clock'

export const FAILURE_WINDOW_MS = 60_000

export type DeploymentState = 0 | 1 | 2

export type CooldownOptions = {
  readonly clock: Clock
  readonly allowedFails: number
  readonly cooldownMs: number
  /** Called whenever a deployment's state changes. */
  onState(deployment: Deployment, state: DeploymentState): void
}

type Health = { failures: number[]; coolingUntil: number; state: DeploymentState }

export class Cooldowns {
  private readonly health = new Map<string, Health>()
  /** The failure count that starts a cooldown (`allowed_fails: 0` behaves like 1: the first failure). */
  private readonly threshold: number

  constructor(private readonly options: CooldownOptions) {
    this.threshold = Math.max(1, options.allowedFails)
  }

  /** Milliseconds of cooldown left (0 when the deployment may be used). */
  remainingMs(deployment: Deployment): number {
    const health = this.health.get(deployment.id)
    if (!health || health.state !== 2) return 0
    const left = health.coolingUntil - this.options.clock.now()
    if (left > 0) return left
    this.setState(deployment, health, this.recentFailures(health) > 0 ? 1 : 0)
    return 0
  }

  isCooling(deployment: Deployment): boolean {
    return this.remainingMs(deployment) > 0
  }

  recordFailure(deployment: Deployment): void {
    const now = this.options.clock.now()
    const health = this.healthOf(deployment)
    health.failures.push(now)
    if (this.recentFailures(health) >= this.threshold && this.options.cooldownMs > 0) {
      health.coolingUntil = now + this.options.cooldownMs
      // A deployment back from its rest gets a fresh allowance.
      health.failures = []
      this.setState(deployment, health, 2)
    } else if (health.state !== 2) this.setState(deployment, health, 1)
  }

  recordSuccess(deployment: Deployment): void {
    const health = this.health.get(deployment.id)
    if (health && health.state === 1) this.setState(deployment, health, 0)
  }

  private recentFailures(health: Health): number {
    const oldest = this.options.clock.now() - FAILURE_WINDOW_MS
    while (health.failures.length > 0 && health.failures[0] <= oldest) health.failures.shift()
    return health.failures.length
  }

  private healthOf(deployment: Deployment): Health {
    let health = this.health.get(deployment.id)
    if (!health) {
      health = { failures: [], coolingUntil: 0, state: 0 }
      this.health.set(deployment.id, health)
    }
    return health
  }

  private setState(deployment: Deployment, health: Health, state: DeploymentState): void {
    if (health.state === state) return
    health.state = state
    this.options.onState(deployment, state)
  }
}
