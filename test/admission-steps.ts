/**
 * Admission steps for tests: one that records every admit and release, one that always refuses.
 */
import type { AdmissionHold, AdmissionRequest, AdmissionStep } from '../src/admission/pipeline'
import { ApiError } from '../src/http/errors'
import type { UsageRecord } from '../src/usage/record'

export type Released = { requestId: string; record: UsageRecord | null }

/** Admits everything; remembers which requests it admitted and every release (with its record). */
export function trackingStep(options: { order?: number; hold?: Partial<AdmissionHold> } = {}) {
  const admitted: AdmissionRequest[] = []
  const released: Released[] = []
  const step: AdmissionStep = {
    name: 'tracking',
    order: options.order ?? 700,
    admit(request) {
      admitted.push(request)
      return { ...options.hold, release: (record) => void released.push({ requestId: request.requestId, record }) }
    },
  }
  return { step, admitted, released }
}

/** Refuses every request with the contract's rate-limit 429. */
export function rateLimited(name = 'rate-limit', order = 800): AdmissionStep {
  return {
    name,
    order,
    admit: () => {
      throw new ApiError(429, 'rate_limit_error', 'Rate limit exceeded for api_key: test. Limit type: rpm. Current limit: 0, Remaining: 0.', null, { 'retry-after': '1' })
    },
  }
}
