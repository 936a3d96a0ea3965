/**
 * The routing keys of config.yaml (§8), resolved once: `router_settings` over `litellm_settings`, defaults
 * applied, and a deployment's own `litellm_params` (timeouts, weight, rpm/tpm, tags) read in one place.
 */
import type { Config } from '../config/schema'
import type { Deployment } from '../deployments/deployment'

export const DEFAULT_TIMEOUT_SECONDS = 600

export type RoutingStrategy = 'simple-shuffle' | 'least-busy'

export type RoutingSettings = {
  readonly numRetries: number
  /** `router_settings.timeout`, else `litellm_settings.request_timeout`, else 600 s. */
  readonly timeoutSeconds: number
  /** `router_settings.stream_timeout`; null: streams use the non-stream timeout. */
  readonly streamTimeoutSeconds: number | null
  /** Model group (or `*`) → fallback model names. */
  readonly fallbacks: ReadonlyMap<string, readonly string[]>
  readonly contextWindowFallbacks: ReadonlyMap<string, readonly string[]>
  readonly allowedFails: number
  readonly cooldownMs: number
  readonly strategy: RoutingStrategy
  readonly tagFiltering: boolean
}

type FallbackList = ReadonlyArray<Readonly<Record<string, readonly string[]>>>

function fallbackMap(list: FallbackList | undefined): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>()
  for (const entry of list ?? []) for (const [group, names] of Object.entries(entry)) map.set(group, [...(map.get(group) ?? []), ...names])
  return map
}

/** The settings, and warnings for values accepted but not acted on as written. */
export function routingSettingsOf(config: Config): { settings: RoutingSettings; warnings: string[] } {
  const router = config.router_settings
  const litellm = config.litellm_settings
  const warnings: string[] = []
  let strategy: RoutingStrategy = 'simple-shuffle'
  if (router.routing_strategy === 'least-busy') strategy = 'least-busy'
  else if (router.routing_strategy !== 'simple-shuffle') {
    warnings.push(`config: router_settings.routing_strategy '${router.routing_strategy}' is not supported; using simple-shuffle`)
  }
  return {
    settings: {
      numRetries: router.num_retries ?? litellm.num_retries ?? 0,
      timeoutSeconds: router.timeout ?? litellm.request_timeout ?? DEFAULT_TIMEOUT_SECONDS,
      streamTimeoutSeconds: router.stream_timeout ?? null,
      fallbacks: fallbackMap(router.fallbacks ?? litellm.fallbacks),
      contextWindowFallbacks: fallbackMap(router.context_window_fallbacks ?? litellm.context_window_fallbacks),
      allowedFails: router.allowed_fails,
      cooldownMs: router.cooldown_time * 1000,
      strategy,
      tagFiltering: router.enable_tag_filtering,
    },
    warnings,
  }
}

/**
 * An attempt's timeout, as LiteLLM chooses it: for a stream the deployment's `stream_timeout`, else the router's;
 * otherwise (and for streams without one) the deployment's `timeout`, else the router's default.
 */
export function attemptTimeoutSeconds(settings: RoutingSettings, deployment: Deployment, stream: boolean): number {
  if (stream) {
    const streamTimeout = deployment.config.litellm_params.stream_timeout ?? settings.streamTimeoutSeconds
    if (streamTimeout !== null) return streamTimeout
  }
  return deployment.timeoutSeconds ?? settings.timeoutSeconds
}

/** The fallback names configured for a model group (its own entry, else the `*` entry). */
export function configuredFallbacks(map: ReadonlyMap<string, readonly string[]>, modelGroup: string): readonly string[] {
  return map.get(modelGroup) ?? map.get('*') ?? []
}

/** A deployment's `litellm_params` that routing reads. */
export function routingParams(deployment: Deployment) {
  const params = deployment.config.litellm_params
  return { weight: params.weight ?? null, rpm: params.rpm ?? null, tpm: params.tpm ?? null, tags: params.tags ?? null }
}
