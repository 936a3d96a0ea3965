/**
 * Spend log rows for spend tests: what the proxy will hand `spend.record()` for a finished request.
 */
import type { SpendLogRow } from '../src/db/ports'
import { newId } from '../src/lib/ids'

export function spendRow(fields: Partial<SpendLogRow> = {}): SpendLogRow {
  const at = fields.startTime ?? new Date(Date.UTC(2026, 0, 15, 12, 0, 0))
  return {
    requestId: newId(),
    responseId: `chatcmpl-${newId()}`,
    callType: 'acompletion',
    apiKey: '',
    spend: 0,
    promptTokens: 10,
    completionTokens: 20,
    totalTokens: 30,
    startTime: at,
    endTime: new Date(at.getTime() + 250),
    completionStartTime: null,
    model: 'gpt-4o',
    modelGroup: 'gpt-4o',
    modelId: 'deployment-1',
    provider: 'openai',
    userId: null,
    teamId: null,
    organizationId: null,
    endUser: null,
    requestTags: [],
    status: 'success',
    usageEstimated: false,
    metadata: {},
    requesterIpAddress: null,
    ...fields,
  }
}

/** A deterministic pseudo-random sequence (mulberry32), so a failing sum can be reproduced. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
