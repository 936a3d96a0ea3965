/**
 * The data plane's parts, built once from the settings: the model catalog, the provider adapters, the router,
 * the admission pipeline, the usage sink and the pricing. Later features plug in here — budgets and rate
 * limits register admission steps, spend accounting supplies the durable usage sink and the full pricing,
 * routing supplies a router with retries and fallbacks — without touching the proxy.
 */
import { createAdmissionPipeline, type AdmissionPipeline } from './admission/pipeline'
import type { Settings } from './config/load'
import { ModelCatalog } from './deployments/catalog'
import type { Logger } from './lib/logger'
import { createProviderRegistry, type ProviderRegistry } from './providers/registry'
import { createRouter, type RouterDeps, type RouterHooks } from './routing/create'
import type { Router } from './routing/router'
import { createPricing, type Pricing } from './spend/prices'
import { MemoryUsageSink, type UsageSink } from './usage/sink'

export type DataPlane = {
  readonly catalog: ModelCatalog
  readonly providers: ProviderRegistry
  readonly router: Router
  readonly admission: AdmissionPipeline
  readonly usage: UsageSink
  readonly pricing: Pricing
  /** Upstream silence after which a stream gets a `: keepalive` comment (§6.8: 15 s). */
  readonly streamKeepaliveMs: number
}

export type DataPlaneOptions = Partial<Pick<DataPlane, 'providers' | 'router' | 'usage' | 'pricing' | 'streamKeepaliveMs'>> & {
  /** The router's randomness and retry waits (tests). */
  readonly routing?: RouterHooks
}

export const STREAM_KEEPALIVE_MS = 15_000

export function createDataPlane(
  settings: Settings,
  log: Logger,
  options: DataPlaneOptions = {},
  shared: Omit<RouterDeps, 'log'>,
): DataPlane {
  const catalog = ModelCatalog.fromConfig(settings.config)
  const providers = options.providers ?? createProviderRegistry()
  for (const deployment of catalog.deployments) {
    if (!providers.get(deployment.provider)) {
      log.warn('provider not available in this build; requests to this deployment fail', {
        model_name: deployment.modelName,
        provider: deployment.provider,
        model_id: deployment.id,
      })
    }
  }
  return {
    catalog,
    providers,
    router: options.router ?? createRouter(settings.config, { ...shared, log }, options.routing),
    admission: createAdmissionPipeline((step, error) => log.error('admission release failed', { step, error: String(error) })),
    // createAppContext always supplies the spend engine's sink; this default serves data planes built alone.
    usage: options.usage ?? new MemoryUsageSink(1_000),
    pricing: options.pricing ?? createPricing(),
    streamKeepaliveMs: options.streamKeepaliveMs ?? STREAM_KEEPALIVE_MS,
  }
}
