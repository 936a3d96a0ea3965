/**
 * What a deployment charges per token, and what a request costs (§6.4, §6.6).
 *
 * - Configured prices (`litellm_params` over `model_info`, per field) win. When either input or output price is
 *   configured, the configuration is the whole price: the other one, if missing, is 0.
 * - Otherwise the built-in table (`price-table.ts`), matched on the upstream model name.
 * - Neither: unpriced. A request to an unpriced model costs 0 and is flagged by the caller; budgeted principals
 *   are refused before that (the admission pipeline asks `priced`).
 * - Free: configured prices that are all explicitly 0. Free deployments skip budget checks.
 */
import type { Deployment } from '../config/schema'
import type { Deployment as CatalogDeployment } from '../deployments/deployment'
import type { TokenUsage } from '../providers/types'
import type { Logger } from '../lib/logger'
import { tablePrice, upstreamModelName } from './price-table'

export type Price = {
  /** USD per prompt token. */
  readonly input: number
  /** USD per completion token. */
  readonly output: number
  /** USD per cached prompt token; null = cached tokens cost the input price. */
  readonly cacheRead: number | null
  /** Every configured price is explicitly 0: no budget applies. */
  readonly free: boolean
  /** A price is known (configured or built in). */
  readonly priced: boolean
}

export type Usage = {
  readonly promptTokens: number
  readonly completionTokens: number
  /** `prompt_tokens_details.cached_tokens`: part of `promptTokens`. */
  readonly cachedTokens?: number
  /** Embeddings are charged for input only. */
  readonly embedding?: boolean
}

type PriceSource = { input_cost_per_token?: number; output_cost_per_token?: number; cache_read_input_token_cost?: number }

function configured(deployment: Deployment, field: keyof PriceSource): number | undefined {
  const params = deployment.litellm_params as PriceSource
  const info = (deployment.model_info ?? {}) as PriceSource
  return params[field] ?? info[field]
}

/**
 * The price of a deployment. `upstreamModel` names the model actually called when the deployment is a
 * wildcard (`openai/*`); otherwise the deployment's own `litellm_params.model` is used for the table.
 *
 * @example priceOf({ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } }) // table price
 */
export function priceOf(deployment: Deployment, upstreamModel?: string): Price {
  const input = configured(deployment, 'input_cost_per_token')
  const output = configured(deployment, 'output_cost_per_token')
  const cacheRead = configured(deployment, 'cache_read_input_token_cost')
  if (input !== undefined || output !== undefined) {
    const price = { input: input ?? 0, output: output ?? 0, cacheRead: cacheRead ?? null }
    return { ...price, free: price.input === 0 && price.output === 0 && (price.cacheRead ?? 0) === 0, priced: true }
  }
  const model = upstreamModel ?? deployment.litellm_params.model
  const table = tablePrice(model)
  if (table) return { input: table.input, output: table.output, cacheRead: cacheRead ?? table.cacheRead, free: false, priced: true }
  return { input: 0, output: 0, cacheRead: cacheRead ?? null, free: false, priced: false }
}

/**
 * `prompt × input + completion × output` in double precision (embeddings: input only). With a cache-read
 * price, the cached part of the prompt is charged at that price instead of the input price.
 */
export function costOf(price: Price, usage: Usage): number {
  const prompt = usage.promptTokens
  const completion = usage.embedding ? 0 : usage.completionTokens
  const cached = price.cacheRead === null ? 0 : Math.min(Math.max(usage.cachedTokens ?? 0, 0), prompt)
  if (cached === 0) return prompt * price.input + completion * price.output
  return (prompt - cached) * price.input + cached * price.cacheRead! + completion * price.output
}

function isWildcard(deployment: Deployment): boolean {
  return deployment.model_name.includes('*') || upstreamModelName(deployment.litellm_params.model).includes('*')
}

/** One start-up warning per deployment that has no price (§6.4). */
export function warnUnpricedDeployments(deployments: readonly Deployment[], log: Logger): void {
  deployments.forEach((deployment, index) => {
    const where = { model_name: deployment.model_name, model: deployment.litellm_params.model, index }
    if (isWildcard(deployment)) {
      if (configured(deployment, 'input_cost_per_token') === undefined && configured(deployment, 'output_cost_per_token') === undefined) {
        log.warn('wildcard deployment has no configured price: models missing from the built-in price table are unpriced', where)
      }
      return
    }
    if (!priceOf(deployment).priced) {
      log.warn(
        'deployment has no price (set input_cost_per_token/output_cost_per_token): its requests are refused for budgeted principals and recorded at 0 otherwise',
        where,
      )
    }
  })
}

export type Cost = { readonly cost: number; readonly priced: boolean }

/** Prices as the proxy asks for them: per catalog deployment, and per upstream model for wildcard deployments. */
export interface Pricing {
  priceOf(deployment: CatalogDeployment, upstreamModel?: string): Price
  costOf(deployment: CatalogDeployment, usage: TokenUsage, upstreamModel?: string): Cost
}

/** Prices are resolved once per deployment (and upstream model) and kept; the config does not change at run time. */
export function createPricing(): Pricing {
  const known = new WeakMap<CatalogDeployment, Map<string, Price>>()
  const priceFor = (deployment: CatalogDeployment, upstreamModel?: string): Price => {
    let byModel = known.get(deployment)
    if (!byModel) known.set(deployment, (byModel = new Map()))
    const id = upstreamModel ?? ''
    let price = byModel.get(id)
    if (!price) byModel.set(id, (price = priceOf(deployment.config, upstreamModel)))
    return price
  }
  return {
    priceOf: priceFor,
    costOf(deployment, usage, upstreamModel) {
      const price = priceFor(deployment, upstreamModel)
      const cost = costOf(price, { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, cachedTokens: usage.cachedPromptTokens })
      return { cost, priced: price.priced }
    },
  }
}
