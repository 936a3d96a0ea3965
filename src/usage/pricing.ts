/**
 * Prices per token and the cost of a request (§6.6). Configured prices only for now: `litellm_params` over
 * `model_info`; a deployment with neither input nor output price is unpriced (cost 0, `priced: false`); one
 * set price with the other missing prices the missing one at 0. Spend accounting replaces this with a
 * Pricing that also knows a built-in price table; budgets read `pricesOf` to tell free models (explicit 0).
 */
import type { Deployment } from '../deployments/deployment'
import type { TokenUsage } from '../providers/types'

export type ModelPrices = {
  readonly inputCostPerToken: number
  readonly outputCostPerToken: number
  /** Price of cached prompt tokens; null = they cost the input price. */
  readonly cacheReadInputTokenCost: number | null
}

export type Cost = { readonly cost: number; readonly priced: boolean }

export interface Pricing {
  /** The deployment's prices, or null when none is known. */
  pricesOf(deployment: Deployment): ModelPrices | null
  costOf(deployment: Deployment, usage: TokenUsage): Cost
}

/** cost = prompt × input + completion × output, in double precision; cached prompt tokens at the cache price. */
export function costFromPrices(prices: ModelPrices, usage: TokenUsage): number {
  const cached = prices.cacheReadInputTokenCost === null ? 0 : Math.min(usage.cachedPromptTokens, usage.promptTokens)
  const input = (usage.promptTokens - cached) * prices.inputCostPerToken + (cached > 0 ? cached * prices.cacheReadInputTokenCost! : 0)
  return input + usage.completionTokens * prices.outputCostPerToken
}

export function configuredPrices(deployment: Deployment): ModelPrices | null {
  const params = deployment.config.litellm_params
  const info = deployment.config.model_info ?? {}
  const input = params.input_cost_per_token ?? info.input_cost_per_token
  const output = params.output_cost_per_token ?? info.output_cost_per_token
  if (input === undefined && output === undefined) return null
  return {
    inputCostPerToken: input ?? 0,
    outputCostPerToken: output ?? 0,
    cacheReadInputTokenCost: params.cache_read_input_token_cost ?? info.cache_read_input_token_cost ?? null,
  }
}

export function createConfiguredPricing(): Pricing {
  const cache = new WeakMap<Deployment, ModelPrices | null>()
  const pricesOf = (deployment: Deployment) => {
    if (!cache.has(deployment)) cache.set(deployment, configuredPrices(deployment))
    return cache.get(deployment)!
  }
  return {
    pricesOf,
    costOf(deployment, usage) {
      const prices = pricesOf(deployment)
      return prices ? { cost: costFromPrices(prices, usage), priced: true } : { cost: 0, priced: false }
    },
  }
}
