/**
 * Built-in list prices (USD per token) for common OpenAI, Azure OpenAI and Anthropic models, embedded in the
 * binary and used when a deployment configures no price. Matched on the upstream model name (provider prefix,
 * a trailing release date and `-latest` removed), never on a prefix: `gpt-4o-audio-preview` is not `gpt-4o`.
 * Config always wins over this table.
 *
 * Sources: the providers' published pricing pages (per 1M tokens: input / output / cached-input read).
 */
export type TablePrice = { readonly input: number; readonly output: number; readonly cacheRead: number | null }

/** [name, input, output, cache read] in USD per million tokens; converted to per-token below. */
const PER_MILLION: ReadonlyArray<readonly [string, number, number, number | null]> = [
  // OpenAI (also Azure OpenAI, which lists the same prices for the same models)
  ['gpt-4o', 2.5, 10, 1.25],
  ['gpt-4o-2024-05-13', 5, 15, null],
  ['gpt-4o-mini', 0.15, 0.6, 0.075],
  ['gpt-4.1', 2, 8, 0.5],
  ['gpt-4.1-mini', 0.4, 1.6, 0.1],
  ['gpt-4.1-nano', 0.1, 0.4, 0.025],
  ['gpt-5', 1.25, 10, 0.125],
  ['gpt-5-mini', 0.25, 2, 0.025],
  ['gpt-5-nano', 0.05, 0.4, 0.005],
  ['o1', 15, 60, 7.5],
  ['o1-preview', 15, 60, 7.5],
  ['o1-mini', 1.1, 4.4, 0.55],
  ['o1-pro', 150, 600, null],
  ['o3', 2, 8, 0.5],
  ['o3-mini', 1.1, 4.4, 0.55],
  ['o3-pro', 20, 80, null],
  ['o4-mini', 1.1, 4.4, 0.275],
  ['gpt-4-turbo', 10, 30, null],
  ['gpt-4-turbo-preview', 10, 30, null],
  ['gpt-4', 30, 60, null],
  ['gpt-4-32k', 60, 120, null],
  ['gpt-3.5-turbo', 0.5, 1.5, null],
  ['gpt-3.5-turbo-instruct', 1.5, 2, null],
  ['text-embedding-3-small', 0.02, 0, null],
  ['text-embedding-3-large', 0.13, 0, null],
  ['text-embedding-ada-002', 0.1, 0, null],
  // Anthropic (cache read = 0.1 × input)
  ['claude-3-haiku', 0.25, 1.25, 0.03],
  ['claude-3-sonnet', 3, 15, 0.3],
  ['claude-3-opus', 15, 75, 1.5],
  ['claude-3-5-haiku', 0.8, 4, 0.08],
  ['claude-3-5-sonnet', 3, 15, 0.3],
  ['claude-3-7-sonnet', 3, 15, 0.3],
  ['claude-sonnet-4', 3, 15, 0.3],
  ['claude-sonnet-4-5', 3, 15, 0.3],
  ['claude-opus-4', 15, 75, 1.5],
  ['claude-opus-4-1', 15, 75, 1.5],
  ['claude-opus-4-5', 5, 25, 0.5],
  ['claude-haiku-4-5', 1, 5, 0.1],
]

/** Other spellings of the same model: Azure's `gpt-35-*`, Anthropic's `claude-<family>-<major>` aliases. */
const ALIASES: Readonly<Record<string, string>> = {
  'gpt-35-turbo': 'gpt-3.5-turbo',
  'gpt-35-turbo-instruct': 'gpt-3.5-turbo-instruct',
  'gpt-4-32k-0613': 'gpt-4-32k',
  'gpt-4-0613': 'gpt-4',
  'gpt-4-0125-preview': 'gpt-4-turbo-preview',
  'gpt-4-1106-preview': 'gpt-4-turbo-preview',
  'gpt-3.5-turbo-0125': 'gpt-3.5-turbo',
  'claude-4-sonnet': 'claude-sonnet-4',
  'claude-4-opus': 'claude-opus-4',
}

// Per-million prices divided once, so e.g. 2.5 / 1e6 is the same double wherever it is used.
const TABLE: ReadonlyMap<string, TablePrice> = new Map(
  PER_MILLION.map(([name, input, output, cacheRead]) => [
    name,
    { input: input / 1e6, output: output / 1e6, cacheRead: cacheRead === null ? null : cacheRead / 1e6 },
  ]),
)

/** `openai/gpt-4o` → `gpt-4o`; `azure/my-deployment` → `my-deployment`. */
export function upstreamModelName(model: string): string {
  const slash = model.indexOf('/')
  return slash === -1 ? model : model.slice(slash + 1)
}

/** The names tried for a model, most specific first. */
function candidates(model: string): string[] {
  const name = upstreamModelName(model).trim().toLowerCase()
  const undated = name.replace(/-(\d{4}-\d{2}-\d{2}|\d{8})$/, '').replace(/-latest$/, '')
  return [...new Set([name, ALIASES[name], undated, ALIASES[undated]].filter((n): n is string => typeof n === 'string'))]
}

/** The built-in price of an upstream model, or null when the table has none. */
export function tablePrice(model: string): TablePrice | null {
  for (const name of candidates(model)) {
    const price = TABLE.get(name)
    if (price) return price
  }
  return null
}
