import { describe, expect, test } from 'bun:test'
import { estimateChatPromptTokens, estimateInputTokens, estimateTextTokens } from './estimate'
import type { UsageRecord } from './record'
import { MemoryUsageSink } from './sink'

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
