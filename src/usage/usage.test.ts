import { describe, expect, test } from 'bun:test'
import { toDeployment } from '../deployments/deployment'
import { estimateChatPromptTokens, estimateInputTokens, estimateTextTokens } from './estimate'
import { createConfiguredPricing } from './pricing'
import type { UsageRecord } from './record'
import { MemoryUsageSink } from './sink'

const usage = (promptTokens: number, completionTokens: number, cachedPromptTokens = 0) => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
  cachedPromptTokens,
})
const deployment = (params: Record<string, unknown>, info?: Record<string, unknown>) =>
  toDeployment({ model_name: 'm', litellm_params: { model: 'openai/m', ...params } as any, model_info: info as any }, 0)

describe('pricing from config', () => {
  const pricing = createConfiguredPricing()
  test('cost = prompt × input + completion × output, litellm_params over model_info', () => {
    expect(pricing.costOf(deployment({ input_cost_per_token: 3.5e-7, output_cost_per_token: 1e-6 }), usage(10, 5))).toEqual({
      cost: 10 * 3.5e-7 + 5 * 1e-6,
      priced: true,
    })
    const both = deployment({ input_cost_per_token: 1e-6 }, { input_cost_per_token: 9, output_cost_per_token: 2e-6 })
    expect(pricing.pricesOf(both)).toEqual({ inputCostPerToken: 1e-6, outputCostPerToken: 2e-6, cacheReadInputTokenCost: null })
  })

  test('cached prompt tokens at the cache price when one is configured; a missing price of a pair is 0; no price = unpriced', () => {
    const cached = deployment({ input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, cache_read_input_token_cost: 1e-7 })
    expect(pricing.costOf(cached, usage(10, 5, 4)).cost).toBe(6 * 1e-6 + 4 * 1e-7 + 5 * 2e-6)
    expect(pricing.costOf(deployment({ input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 }), usage(10, 5, 4)).cost).toBe(10 * 1e-6 + 5 * 2e-6)
    expect(pricing.costOf(deployment({ output_cost_per_token: 2e-6 }), usage(10, 5))).toEqual({ cost: 5 * 2e-6, priced: true })
    expect(pricing.costOf(deployment({}), usage(10, 5))).toEqual({ cost: 0, priced: false })
    expect(pricing.costOf(deployment({ input_cost_per_token: 0, output_cost_per_token: 0 }), usage(10, 5))).toEqual({ cost: 0, priced: true })
  })
})

describe('token estimates', () => {
  test('text, chat prompts (+3 per message, +3 for the reply) and inputs', () => {
    expect(estimateTextTokens('')).toBe(0)
    expect(estimateTextTokens('Hello from the fake upstream')).toBeGreaterThanOrEqual(5)
    expect(estimateTextTokens('Hello from the fake upstream')).toBeLessThanOrEqual(7)
    expect(estimateTextTokens('设置团队预算')).toBeGreaterThanOrEqual(4)
    expect(estimateChatPromptTokens([{ role: 'user', content: 'hi' }])).toBe(3 + 3 + 1)
    expect(estimateChatPromptTokens([{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url' }] }])).toBe(7)
    expect(estimateInputTokens(['a b', 'c'])).toBe(3)
    expect(estimateInputTokens([1, 2, 3])).toBe(3)
  })
})

describe('the memory usage sink', () => {
  test('keeps records in order, waits for a count, and drops the oldest beyond its bound', async () => {
    const sink = new MemoryUsageSink(2)
    const waiting = sink.waitFor(2)
    sink.record({ requestId: 'a' } as UsageRecord)
    sink.record({ requestId: 'b' } as UsageRecord)
    await waiting
    sink.record({ requestId: 'c' } as UsageRecord)
    expect(sink.records.map((r) => r.requestId)).toEqual(['a', 'b', 'c'])
    sink.record({ requestId: 'd' } as UsageRecord)
    expect(sink.records.map((r) => r.requestId)).toEqual(['c', 'd'])
    expect(sink.byRequestId('c')).toHaveLength(1)
  })
})
