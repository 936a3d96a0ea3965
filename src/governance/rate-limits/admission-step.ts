/**
 * Rate limits as the proxy's admission step 8 (§6.3, §6.5): the request's levels are read from the entity
 * caches, admitted or refused in one atomic check-and-count, and the hold is given back on every path — with
 * the usage record's tokens counted first (TPM is post-paid), then the parallel slots freed.
 */
import { ADMISSION_ORDER, type AdmissionRequest, type AdmissionStep } from '../../admission/pipeline'
import type { AppContext } from '../../app-context'
import type { LevelLimit } from './levels'
import type { RateLimiter } from './limiter'
import { requestLimitLevels } from './subject'

/** Sees each admitted request's limited levels and success headers (the remaining-limit gauges of §10). */
export type RateLimitObserver = (request: AdmissionRequest, levels: readonly LevelLimit[], headers: Readonly<Record<string, string>>) => void

export function rateLimitStep(
  context: Pick<AppContext, 'caches' | 'settings'> & { rateLimiter: RateLimiter; onAdmitted?: RateLimitObserver },
): AdmissionStep {
  return {
    name: 'rate-limits',
    order: ADMISSION_ORDER.rateLimit,
    async admit(request) {
      const levels = await requestLimitLevels(context, request.principal, { model: request.target.modelGroup, endUserId: request.endUser })
      const ticket = await context.rateLimiter.admit(levels)
      context.onAdmitted?.(request, levels, ticket.headers)
      return {
        headers: ticket.headers,
        async release(record) {
          if (record) await ticket.settle({ promptTokens: record.promptTokens, completionTokens: record.completionTokens })
          await ticket.release()
        },
      }
    },
  }
}
