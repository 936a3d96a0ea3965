/** The provider prefixes of `litellm_params.model` that config accepts (`openai/x`, `azure/x`, `anthropic/x`). */
export const SUPPORTED_PROVIDER_PREFIXES: readonly string[] = ['openai', 'azure', 'anthropic']

/** `openai/gpt-4o` → `openai`; a bare name means `openai`. */
export function providerPrefixOf(model: string): string {
  const slash = model.indexOf('/')
  return slash === -1 ? 'openai' : model.slice(0, slash)
}
