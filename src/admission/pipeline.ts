/**
 * Admission (§6.3 steps 7–8): after the credential, the body, the end user, the tags and the model are
 * resolved, every registered step decides whether the request may go upstream. A step refuses by throwing an
 * `ApiError` (budget 400, rate limit 429 …) or admits, optionally holding something (an in-flight estimate, a
 * parallel slot, a reservation) that its `release` gives back. The pipeline guarantees:
 *
 * - steps run in `order` (budgets §6.4 at ADMISSION_ORDER.budget, rate limits §6.5 at ADMISSION_ORDER.rateLimit);
 * - a refusal releases what the earlier steps of the same request hold (with `null`: nothing was forwarded);
 * - every admitted request's holds are released exactly once, newest first, on every path — success, upstream
 *   error, timeout, client disconnect — with the request's usage record (cost, tokens, status).
 */
import type { Principal } from '../auth/principal'
import type { ModelTarget } from '../deployments/catalog'
import type { CallType, UsageRecord } from '../usage/record'

export const ADMISSION_ORDER = { budget: 700, rateLimit: 800 } as const

export type AdmissionRequest = {
  readonly requestId: string
  readonly principal: Principal
  readonly callType: CallType
  /** The request path (`/v1/chat/completions`). */
  readonly route: string
  readonly requestedModel: string
  /** The model group and the deployments that may serve it. */
  readonly target: ModelTarget
  readonly organizationId: string | null
  readonly endUser: string | null
  readonly tags: readonly string[]
  /** The client's parsed body (read only: to change what is forwarded, return `bodyOverrides`). */
  readonly body: Readonly<Record<string, unknown>>
  readonly stream: boolean
  /** Aborts when the client goes away (a step that waits should stop waiting). */
  readonly signal: AbortSignal
}

/** What an admitting step holds for the request, and what it adds to it. */
export type AdmissionHold = {
  /**
   * Gives back what the step holds. Called exactly once: with the usage record once the request finished, or
   * with null when it never reached the upstream (a later step refused it). Must not throw; errors are logged.
   */
  release(record: UsageRecord | null): void | Promise<void>
  /** Headers for the response (e.g. `x-ratelimit-*` of the most constraining level). */
  readonly headers?: Readonly<Record<string, string>>
  /** Top-level body fields to set on the forwarded request (e.g. a capped `max_tokens` in strict budget mode). */
  readonly bodyOverrides?: Readonly<Record<string, unknown>>
}

export interface AdmissionStep {
  readonly name: string
  readonly order: number
  /** Refuses by throwing an ApiError; admits by returning a hold, or null when it holds nothing. */
  admit(request: AdmissionRequest): Promise<AdmissionHold | null> | AdmissionHold | null
}

/** The admitted request's combined holds. */
export type Admitted = {
  readonly headers: Readonly<Record<string, string>>
  readonly bodyOverrides: Readonly<Record<string, unknown>>
  /** Releases every hold once (later calls do nothing). */
  release(record: UsageRecord | null): Promise<void>
}

export type AdmissionPipeline = {
  /** Adds a step; steps run by `order`, then by registration. */
  register(step: AdmissionStep): void
  steps(): readonly AdmissionStep[]
  admit(request: AdmissionRequest): Promise<Admitted>
}

const NOTHING_HELD: Admitted = { headers: {}, bodyOverrides: {}, release: async () => {} }

export function createAdmissionPipeline(onReleaseError: (step: string, error: unknown) => void): AdmissionPipeline {
  let ordered: AdmissionStep[] = []

  async function releaseAll(holds: Array<{ step: string; hold: AdmissionHold }>, record: UsageRecord | null) {
    for (let i = holds.length - 1; i >= 0; i--) {
      try {
        await holds[i].hold.release(record)
      } catch (error) {
        onReleaseError(holds[i].step, error)
      }
    }
  }

  return {
    register(step) {
      ordered = [...ordered, step].sort((a, b) => a.order - b.order)
    },
    steps: () => ordered,
    async admit(request) {
      if (ordered.length === 0) return NOTHING_HELD
      const holds: Array<{ step: string; hold: AdmissionHold }> = []
      for (const step of ordered) {
        let hold: AdmissionHold | null
        try {
          hold = await step.admit(request)
        } catch (refusal) {
          await releaseAll(holds, null)
          throw refusal
        }
        if (hold) holds.push({ step: step.name, hold })
      }
      if (holds.length === 0) return NOTHING_HELD
      let released = false
      return {
        headers: Object.assign({}, ...holds.map(({ hold }) => hold.headers ?? {})),
        bodyOverrides: Object.assign({}, ...holds.map(({ hold }) => hold.bodyOverrides ?? {})),
        async release(record) {
          if (released) return
          released = true
          await releaseAll(holds, record)
        },
      }
    },
  }
}
