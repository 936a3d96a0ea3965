/**
 * A deployment's own `litellm_params.rpm` / `tpm` (§6.8): counted in the rate limiter's sliding 60-second
 * windows and its counter store, so with Redis every instance sees the same counts (§6.5). Each attempt on a
 * deployment counts one request, atomically with the check; the answering deployment's tokens are added when
 * the request ends (post-paid, like §6.5). A deployment at its limit is skipped by the router.
 */
import type { Deployment } from '../deployments/deployment'
import type { LevelLimit } from '../governance/rate-limits/levels'
import type { RateCounters } from '../governance/rate-limits/store'
import type { Logger } from '../lib/logger'
import { routingParams } from './settings'

function levelOf(deployment: Deployment): LevelLimit | null {
  const { rpm, tpm } = routingParams(deployment)
  if (rpm === null && tpm === null) return null
  return { level: 'deployment', id: deployment.id, rpm, tpm, maxParallel: null }
}

const NO_LEASE = { id: 'deployment', expiresAtMs: 0 }

export class DeploymentLimits {
  constructor(
    private readonly store: RateCounters,
    private readonly log: Logger,
  ) {}

  /** Counts an attempt on the deployment: null when admitted, else the seconds until it would admit one. */
  async admit(deployment: Deployment): Promise<number | null> {
    const level = levelOf(deployment)
    if (!level) return null
    try {
      const admission = await this.store.admit([level], NO_LEASE)
      return admission.decision.admitted ? null : admission.decision.refusal.retryAfterSeconds
    } catch (error) {
      // Counters unavailable: serve rather than refuse; the deployment's own limit will answer for itself.
      this.log.warn('deployment rpm/tpm counters failed; not enforced for this attempt', { model_id: deployment.id, error: String(error) })
      return null
    }
  }

  async addTokens(deployment: Deployment, tokens: number): Promise<void> {
    const level = levelOf(deployment)
    if (!level || level.tpm === null || tokens <= 0) return
    await this.store.addTokens([level], tokens).catch((error) => {
      this.log.warn('counting deployment tokens failed', { model_id: deployment.id, error: String(error) })
    })
  }
}
