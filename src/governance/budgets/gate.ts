/**
 * Budget admission (§6.3 step 7, §6.4) and settlement for one instance.
 *
 * Admission: the model group's price (free → no budget applies; unpriced → refused when any level has a cap),
 * the request's levels from the caches, a lazy reset of every window that has ended, then the mode's rule over
 * every capped level together:
 * - default: committed spend and this instance's in-flight estimates decide (`decideDefault`); a request that
 *   must wait holds nothing and waits in line until an in-flight request of the blocking level settles, at most
 *   `budget_wait_timeout` seconds (then 429);
 * - strict: a reservation of the worst case (`decideStrict`), `max_tokens` capped to fit when nothing else is
 *   outstanding, waiting like default mode otherwise.
 *
 * Settlement (`charge`, before the row enters the spool): the cost is added to every level's committed counter
 * of the window current at that moment, soft budgets are checked, and then (`release`) the in-flight estimate
 * or reservation is given back and the waiters blocked on those levels re-evaluate.
 */
import type { AdmissionHold, AdmissionRequest } from '../../admission/pipeline'
import type { Logger } from '../../lib/logger'
import type { Metrics } from '../../metrics/registry'
import type { UsageRecord } from '../../usage/record'
import type { CommittedSpend } from './committed'
import { decideDefault, type CappedState } from './decide'
import { outputField, type RequestEstimate } from './estimate'
import { scopeOf, windowIdOf, type LevelBudget } from './levels'
import { budgetExceeded, budgetWaitTimedOut, clientGone } from './refusal'
import type { CappedLevel, Reservations } from './reservations'
import type { SoftBudgetAlerts } from './soft-budgets'
import { HeldAmounts, WaitQueue } from './waiting'

export const MAX_TOKENS_CAPPED_HEADER = 'x-tollgate-max-tokens-capped'
/** Waiters re-check this often even without a local settlement (a reset, a raised cap, another instance). */
const LOCAL_POLL_MS = 1_000
const SHARED_POLL_MS = 100

export type GateDeps = {
  readonly committed: Pick<CommittedSpend, 'read' | 'add'>
  readonly reservations: Reservations
  readonly alerts: SoftBudgetAlerts
  readonly metrics: Pick<Metrics, 'budgetWaitSeconds'>
  readonly log: Logger
  readonly strict: boolean
  readonly waitTimeoutMs: number
  /** Request timeout + 60 s: when a strict reservation of a crashed instance stops counting. */
  readonly reservationTtlMs: number
}

type Tracked = { readonly level: LevelBudget; readonly scope: string; readonly window: string }
type Hold = { readonly tracked: readonly Tracked[] }

const isCapped = (level: LevelBudget): level is CappedLevel => level.maxBudget !== null

export class BudgetGate {
  private readonly inFlight = new HeldAmounts()
  private readonly queue = new WaitQueue()
  private readonly holds = new Map<string, Hold>()
  /** The window each scope's counter is in as this instance last saw it: settlements land there. */
  private readonly currentWindow = new Map<string, string>()

  constructor(private readonly deps: GateDeps) {}

  /** Admits (returning what the request holds) or throws the refusal. `levels` are the request's tracked levels. */
  async admit(request: AdmissionRequest, levels: readonly LevelBudget[], estimate: RequestEstimate): Promise<AdmissionHold | null> {
    if (levels.length === 0) return null
    const tracked = levels.map((level) => ({ level, scope: scopeOf(level.source), window: windowIdOf(level.window) }))
    for (const t of tracked) this.currentWindow.set(t.scope, t.window)
    const capped = levels.filter(isCapped)
    // Soft-only levels need their counters seeded, so their settlement can tell a crossing.
    if (capped.length === 0) await Promise.all(levels.map((level) => this.deps.committed.read(level)))
    const admitted = capped.length === 0 ? { headers: {}, bodyOverrides: {}, release: async () => {} } : await this.admitCapped(request, capped, estimate)
    this.holds.set(request.requestId, { tracked })
    return {
      headers: admitted.headers,
      bodyOverrides: admitted.bodyOverrides,
      release: async () => {
        this.holds.delete(request.requestId)
        await admitted.release()
      },
    }
  }

  /**
   * A finished request's cost, added to every tracked level's committed counter before the row enters the spool
   * (in-process counters change synchronously, here). Resolves once shared counters have it too.
   */
  charge(record: UsageRecord): Promise<void> | void {
    const hold = this.holds.get(record.requestId)
    const cost = record.cost
    if (!hold || !(cost > 0)) return
    const increments = hold.tracked.map((t) => {
      const window = this.currentWindow.get(t.scope) ?? t.window
      return this.deps.committed.add(t.scope, window, cost).then((spend) => {
        if (spend !== null) this.deps.alerts.settled(t.level, window, spend, cost, record)
      })
    })
    return Promise.all(increments).then(
      () => {},
      (error) => this.deps.log.error('budget counters missed a settlement', { request_id: record.requestId, error: String(error) }),
    )
  }

  private async admitCapped(request: AdmissionRequest, capped: readonly CappedLevel[], estimate: RequestEstimate) {
    const scopes = capped.map((level) => scopeOf(level.source))
    const seq = this.queue.ticket()
    const started = performance.now()
    const deadline = started + this.deps.waitTimeoutMs
    const pollMs = this.deps.reservations.shared && this.deps.strict ? SHARED_POLL_MS : LOCAL_POLL_MS
    const blockedOn = this.queue.blockedAmong(scopes, seq)
    let blocking: CappedLevel | null = blockedOn === null ? null : capped[scopes.indexOf(blockedOn)]
    let waited = false
    const observe = () => {
      if (waited) this.deps.metrics.budgetWaitSeconds.observe((performance.now() - started) / 1000)
    }
    for (;;) {
      if (blocking) {
        waited = true
        const outcome = await this.queue.wait(seq, scopeOf(blocking.source), deadline, request.signal, pollMs)
        if (outcome === 'timeout') {
          observe()
          throw budgetWaitTimedOut(blocking)
        }
        if (outcome === 'aborted') throw clientGone()
      }
      const decision = this.deps.strict ? await this.tryReserve(request, capped, estimate) : await this.tryInFlight(capped, scopes, estimate)
      if (decision.kind === 'wait') {
        blocking = decision.state.level
        continue
      }
      observe()
      if (decision.kind === 'refuse') throw budgetExceeded(decision.state.level, decision.state.committed)
      return decision.admitted
    }
  }

  /** Default mode: committed + Σ in-flight decide; an admitted request adds its estimate to every level. */
  private async tryInFlight(capped: readonly CappedLevel[], scopes: readonly string[], estimate: RequestEstimate) {
    const committed = await Promise.all(capped.map((level) => this.deps.committed.read(level)))
    // Nothing awaits from here to adding the estimate: the decision and the hold are one step.
    const states: CappedState[] = capped.map((level, i) => ({ level, committed: committed[i], held: this.inFlight.sum(scopes[i]) }))
    const decision = decideDefault(states)
    if (decision.kind !== 'admit') return decision
    const amount = estimate.total
    this.inFlight.add(scopes, amount)
    let released = false
    return {
      kind: 'admit' as const,
      admitted: {
        headers: {},
        bodyOverrides: {},
        release: async () => {
          if (released) return
          released = true
          this.inFlight.remove(scopes, amount)
          this.queue.wake(scopes)
        },
      },
    }
  }

  /** Strict mode: an atomic reservation of the worst case (or of a capped output) at every level. */
  private async tryReserve(request: AdmissionRequest, capped: readonly CappedLevel[], estimate: RequestEstimate) {
    const reserved = await this.deps.reservations.reserve({
      id: request.requestId,
      levels: capped,
      worst: { prompt: estimate.promptCost, outputPrice: estimate.outputPrice, maxOut: estimate.maxOut },
      expiresAtMs: Date.now() + this.deps.reservationTtlMs,
    })
    if (reserved.kind !== 'reserve') return reserved
    const scopes = capped.map((level) => scopeOf(level.source))
    const headers: Record<string, string> = {}
    const bodyOverrides: Record<string, unknown> = {}
    if (request.callType !== 'aembedding') {
      // The forwarded request always carries the bound the reservation was made for.
      const tokens = reserved.cappedMaxTokens ?? estimate.maxOut
      bodyOverrides[outputField(request.body)] = tokens
      if (reserved.cappedMaxTokens !== null && reserved.cappedMaxTokens < estimate.maxOut) headers[MAX_TOKENS_CAPPED_HEADER] = String(tokens)
    }
    return {
      kind: 'admit' as const,
      admitted: {
        headers,
        bodyOverrides,
        release: async () => {
          await reserved.release()
          this.queue.wake(scopes)
        },
      },
    }
  }
}
