/**
 * GET /health's answer: every configured deployment probed (wildcard deployments such as `openai/*` name no
 * model to probe and are left out). Without `general_settings.background_health_checks` each call probes,
 * concurrent calls sharing one round; with it, a round runs at start and every `health_check_interval`
 * seconds (300) and calls read its results. `health_check_details: false` drops `api_base` and `error`.
 * `api_key` is never part of a report.
 */
import type { Deployment } from '../../deployments/deployment'
import type { Logger } from '../../lib/logger'
import type { ProviderRegistry } from '../../providers/registry'
import { probeDeployment, type ProbeResult } from './probe'

export type HealthOptions = {
  readonly deployments: readonly Deployment[]
  readonly providers: ProviderRegistry
  readonly log: Logger
  readonly background: boolean
  readonly intervalSeconds: number
  readonly details: boolean
}

type Endpoint = { model: string; model_id: string; api_base?: string | null; error?: string | null }

export type HealthReport = {
  healthy_endpoints: Endpoint[]
  unhealthy_endpoints: Endpoint[]
  healthy_count: number
  unhealthy_count: number
}

export class DeploymentHealth {
  private latest: ProbeResult[] | null = null
  private round: Promise<ProbeResult[]> | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private readonly probed: readonly Deployment[]

  constructor(private readonly options: HealthOptions) {
    this.probed = options.deployments.filter((deployment) => !deployment.isWildcard)
  }

  /** With background checks: a round now, then one every interval. */
  start(): void {
    if (!this.options.background || this.timer) return
    void this.refresh()
    this.timer = setInterval(() => void this.refresh(), this.options.intervalSeconds * 1000)
  }

  /** Stops the background rounds; a round in flight (up to its probes' timeout) is not awaited. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Probes every deployment (joining a round already running) and keeps the results. */
  refresh(): Promise<ProbeResult[]> {
    this.round ??= Promise.all(this.probed.map((deployment) => probeDeployment(this.options.providers, deployment)))
      .then((results) => {
        this.latest = results
        if (this.options.background) this.logUnhealthy(results)
        return results
      })
      .finally(() => {
        this.round = null
      })
    return this.round
  }

  /** The report for every deployment, or for one model group (`?model=`, also matching `litellm_params.model`). */
  async report(model?: string): Promise<HealthReport> {
    const matches = ({ deployment }: { deployment: Deployment }) =>
      model === undefined || deployment.modelName === model || deployment.litellmModel === model
    let results: readonly ProbeResult[]
    if (this.options.background) results = this.latest ?? (await this.refresh())
    else if (model === undefined) results = await this.refresh()
    else results = await Promise.all(this.probed.filter((deployment) => matches({ deployment })).map((d) => probeDeployment(this.options.providers, d)))
    const selected = results.filter(matches)
    const endpoint = ({ deployment, error }: ProbeResult, failed: boolean): Endpoint => {
      const entry: Endpoint = { model: deployment.litellmModel, model_id: deployment.id }
      if (!this.options.details) return entry
      entry.api_base = deployment.apiBase
      if (failed) entry.error = error
      return entry
    }
    const healthy = selected.filter((result) => result.healthy).map((result) => endpoint(result, false))
    const unhealthy = selected.filter((result) => !result.healthy).map((result) => endpoint(result, true))
    return { healthy_endpoints: healthy, unhealthy_endpoints: unhealthy, healthy_count: healthy.length, unhealthy_count: unhealthy.length }
  }

  private logUnhealthy(results: readonly ProbeResult[]): void {
    for (const { deployment, healthy, error } of results) {
      if (!healthy) this.options.log.warn('deployment health check failed', { model_name: deployment.modelName, model_id: deployment.id, error })
    }
  }
}
