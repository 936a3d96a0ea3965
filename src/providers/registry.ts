/**
 * Provider prefix (`litellm_params.model` up to the first `/`) → adapter. A new provider is its folder plus
 * one line here (and its prefix with the params it requires in `config/providers.ts`, which config load checks).
 */
import { anthropicProvider } from './anthropic'
import { azureProvider } from './azure'
import { openAiProvider } from './openai'
import type { Provider } from './types'

export type ProviderRegistry = {
  get(prefix: string): Provider | undefined
}

const BUILT_IN: Record<string, Provider> = {
  openai: openAiProvider,
  azure: azureProvider,
  anthropic: anthropicProvider,
}

export function createProviderRegistry(extra: Record<string, Provider> = {}): ProviderRegistry {
  const providers = new Map(Object.entries({ ...BUILT_IN, ...extra }))
  return { get: (prefix) => providers.get(prefix) }
}
