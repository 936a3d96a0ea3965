/**
 * The provider prefixes of `litellm_params.model` that config accepts (`openai/x`, `azure/x`, `anthropic/x`),
 * and the `litellm_params` each one cannot work without: config load refuses a deployment missing them (after
 * `os.environ/` references are resolved), naming it, rather than failing its requests later.
 */
export type ProviderParam = 'api_base' | 'api_key' | 'api_version'

export const PROVIDER_REQUIRED_PARAMS: Readonly<Record<string, readonly ProviderParam[]>> = {
  // OpenAI-compatible servers run without a key (vLLM, Ollama …), and the base defaults to OpenAI's.
  openai: [],
  azure: ['api_base', 'api_key', 'api_version'],
  anthropic: ['api_key'],
}

export const SUPPORTED_PROVIDER_PREFIXES: readonly string[] = Object.keys(PROVIDER_REQUIRED_PARAMS)

/** `openai/gpt-4o` → `openai`; a bare name means `openai`. */
export function providerPrefixOf(model: string): string {
  const slash = model.indexOf('/')
  return slash === -1 ? 'openai' : model.slice(0, slash)
}

/** Problems with a deployment's provider: an unknown prefix, or a required parameter missing or empty. */
export function deploymentProviderProblems(params: Record<string, unknown>, modelName: unknown, index: number): string[] {
  if (typeof params.model !== 'string') return []
  const prefix = providerPrefixOf(params.model)
  const required = PROVIDER_REQUIRED_PARAMS[prefix]
  if (!required) return [`unsupported provider prefix '${prefix}' in model_list[${index}]`]
  const name = typeof modelName === 'string' ? ` (model_name '${modelName}')` : ''
  return required
    .filter((param) => typeof params[param] !== 'string' || (params[param] as string).trim() === '')
    .map((param) => `config: model_list[${index}].litellm_params.${param}: required for ${prefix} deployments${name}`)
}
