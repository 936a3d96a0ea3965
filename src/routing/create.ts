/**
 * The data plane's router, built from config.yaml: routing settings (warnings logged once), the rate limiter's
 * counter store for deployments' rpm/tpm, and `litellm_deployment_state` for cooldowns.
 */
import type { Config } from '../config/schema'
import type { Deployment } from '../deployments/deployment'
import type { RateCounters } from '../governance/rate-limits/store'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import type { Metrics } from '../metrics/registry'
import type { DeploymentState } from './cooldowns'
import { FailoverRouter, type Sleep } from './failover-router'
import { routingSettingsOf } from './settings'
import type { Random } from './strategies'

export type RouterDeps = {
  readonly clock: Clock
  readonly log: Logger
  readonly counters: RateCounters
  readonly metrics: Pick<Metrics, 'deploymentState'>
}

/** What tests replace: randomness and the waits between retries. */
export type RouterHooks = { readonly random?: Random; readonly sleep?: Sleep }

export const deploymentLabels = (deployment: Deployment) => ({
  litellm_model_name: deployment.litellmModel,
  model_id: deployment.id,
  api_base: deployment.apiBase ?? '',
  api_provider: deployment.provider,
})

export function createRouter(config: Config, deps: RouterDeps, hooks: RouterHooks = {}): FailoverRouter {
  const { settings, warnings } = routingSettingsOf(config)
  for (const warning of warnings) deps.log.warn(warning)
  return new FailoverRouter({
    settings,
    clock: deps.clock,
    log: deps.log,
    counters: deps.counters,
    onDeploymentState: (deployment: Deployment, state: DeploymentState) => deps.metrics.deploymentState.set(deploymentLabels(deployment), state),
    ...hooks,
  })
}
