import { describe, expect, test } from 'bun:test'
import type { Deployment } from '../config/schema'
import { createMemoryLogger } from '../lib/logger'
import { pythonFloat } from '../lib/python-float'
import { tablePrice } from './price-table'
import { toDeployment } from '../deployments/deployment'
import { costOf, createPricing, priceOf, warnUnpricedDeployments } from './prices'

const deployment = (model: string, params: Record<string, unknown> = {}, info?: Record<string, unknown>): Deployment => ({
  model_name: model.split('/').pop()!,
  litellm_params: { model, ...params },
  ...(info ? { model_info: info } : {}),
})

test('configured prices win over the built-in table, litellm_params over model_info, field by field', () => {
  expect(priceOf(deployment('openai/gpt-4o', { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 }))).toEqual({
    input: 1e-6,
    output: 2e-6,
    cacheRead: null,
    free: false,
    priced: true,
  })
  const mixed = priceOf(deployment('openai/gpt-4o', { input_cost_per_token: 3e-6 }, { input_cost_per_token: 9e-6, output_cost_per_token: 4e-6 }))
  expect([mixed.input, mixed.output]).toEqual([3e-6, 4e-6])
})

test('a configured input price without an output price prices the output at 0 (not the table, not unpriced)', () => {
  expect(priceOf(deployment('openai/my-llama', { input_cost_per_token: 5e-7 }))).toMatchObject({ input: 5e-7, output: 0, priced: true, free: false })
  expect(priceOf(deployment('openai/gpt-4o', { output_cost_per_token: 1e-5 }))).toMatchObject({ input: 0, output: 1e-5, priced: true })
})

test('prices that are all explicitly 0 make a deployment free; an unknown model without prices is unpriced', () => {
  expect(priceOf(deployment('openai/llama3', { input_cost_per_token: 0, output_cost_per_token: 0 }))).toMatchObject({ free: true, priced: true })
  expect(priceOf(deployment('openai/llama3', {}, { input_cost_per_token: 0 }))).toMatchObject({ free: true, priced: true })
  expect(priceOf(deployment('openai/llama3', { input_cost_per_token: 0, output_cost_per_token: 1e-9 }))).toMatchObject({ free: false })
  expect(priceOf(deployment('openai/llama3'))).toEqual({ input: 0, output: 0, cacheRead: null, free: false, priced: false })
})

test('the built-in table matches upstream names across providers, release dates and aliases, never by prefix', () => {
  expect(priceOf(deployment('openai/gpt-4o'))).toMatchObject({ input: 2.5e-6, output: 1e-5, cacheRead: 1.25e-6, priced: true })
  expect(tablePrice('azure/gpt-4o-mini-2024-07-18')).toEqual(tablePrice('gpt-4o-mini'))
  expect(tablePrice('gpt-4o-2024-05-13')!.input).toBe(5e-6)
  expect(tablePrice('azure/gpt-35-turbo')).toEqual(tablePrice('gpt-3.5-turbo'))
  expect(tablePrice('gpt-4.1-nano-2025-04-14')!.output).toBe(0.4 / 1e6)
  expect(tablePrice('o3-mini')!.input).toBe(1.1 / 1e6)
  expect(tablePrice('anthropic/claude-3-5-sonnet-20241022')).toEqual({ input: 3e-6, output: 1.5e-5, cacheRead: 3e-7 })
  expect(tablePrice('claude-3-5-haiku-latest')!.input).toBe(0.8 / 1e6)
  expect(tablePrice('anthropic/claude-sonnet-4-20250514')!.output).toBe(1.5e-5)
  expect(tablePrice('claude-opus-4-1-20250805')!.input).toBe(1.5e-5)
  expect(tablePrice('text-embedding-3-small')).toMatchObject({ input: 2e-8, output: 0 })
  expect(tablePrice('gpt-4o-audio-preview')).toBeNull()
  expect(tablePrice('my-company-model')).toBeNull()
  // A wildcard deployment is priced per upstream model actually called.
  expect(priceOf(deployment('openai/*'), 'gpt-4.1').input).toBe(2e-6)
  expect(priceOf(deployment('openai/*'), 'unknown-model').priced).toBe(false)
})

test('cost: prompt × input + completion × output in double precision; embeddings input only; cached tokens at the cache price', () => {
  const price = priceOf(deployment('openai/x', { input_cost_per_token: 5e-7, output_cost_per_token: 1.5e-6 }))
  expect(costOf(price, { promptTokens: 7, completionTokens: 0 })).toBe(3.5e-6)
  expect(pythonFloat(costOf(price, { promptTokens: 7, completionTokens: 1 }))).toBe('4.9999999999999996e-06')
  expect(costOf(price, { promptTokens: 100, completionTokens: 50, embedding: true })).toBe(100 * 5e-7)
  // Without a cache price, cached tokens cost the input price.
  expect(costOf(price, { promptTokens: 100, completionTokens: 0, cachedTokens: 80 })).toBe(100 * 5e-7)
  const cached = priceOf(deployment('openai/x', { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, cache_read_input_token_cost: 1e-7 }))
  expect(costOf(cached, { promptTokens: 100, completionTokens: 10, cachedTokens: 80 })).toBe(20 * 1e-6 + 80 * 1e-7 + 10 * 2e-6)
  expect(costOf(cached, { promptTokens: 10, completionTokens: 0, cachedTokens: 50 })).toBe(10 * 1e-7)
  expect(costOf(priceOf(deployment('openai/llama3')), { promptTokens: 100, completionTokens: 100 })).toBe(0)
})

test('start-up warns once per deployment without a price, and about wildcards without a configured price', () => {
  const log = createMemoryLogger()
  warnUnpricedDeployments(
    [deployment('openai/gpt-4o'), deployment('openai/llama3'), deployment('openai/llama3', { input_cost_per_token: 0 }), deployment('openai/*')],
    log,
  )
  expect(log.lines.map((line) => [line.level, line.model])).toEqual([
    ['warn', 'openai/llama3'],
    ['warn', 'openai/*'],
  ])
})

describe('pricing as the proxy asks for it', () => {
  const usage = (promptTokens: number, completionTokens: number, cachedPromptTokens = 0) => ({
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    cachedPromptTokens,
  })
  const catalogDeployment = (model: string, params: Record<string, unknown> = {}) =>
    toDeployment({ model_name: model, litellm_params: { model, ...params } as any }, 0)

  test('configured prices, cached prompt tokens at the cache price, unpriced models flagged', () => {
    const pricing = createPricing()
    const cached = catalogDeployment('openai/m', { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, cache_read_input_token_cost: 1e-7 })
    expect(pricing.costOf(cached, usage(10, 5, 4))).toEqual({ cost: 6 * 1e-6 + 4 * 1e-7 + 5 * 2e-6, priced: true })
    expect(pricing.costOf(catalogDeployment('openai/llama3'), usage(10, 5))).toEqual({ cost: 0, priced: false })
    expect(pricing.priceOf(catalogDeployment('openai/m', { input_cost_per_token: 0, output_cost_per_token: 0 })).free).toBe(true)
  })

  test('a wildcard deployment is priced per upstream model from the built-in table', () => {
    const pricing = createPricing()
    const wildcard = catalogDeployment('openai/*')
    expect(pricing.priceOf(wildcard, 'gpt-4o').priced).toBe(true)
    expect(pricing.priceOf(wildcard, 'my-local-model').priced).toBe(false)
    expect(pricing.priceOf(wildcard, 'gpt-4o')).toBe(pricing.priceOf(wildcard, 'gpt-4o'))
  })
})
