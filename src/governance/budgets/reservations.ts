/**
 * Strict mode's reservations (§6.4): the decision and the reservation happen atomically over every capped level
 * — in this process for one instance (no await between reading what is reserved and reserving), in Redis (one
 * script, `redis-reservations.ts`) when configured. Settlement releases the reservation after the actual cost
 * was added to committed spend.
 */
import type { CommittedSpend } from './committed'
import { decideStrict, type StrictDecision, type WorstCase } from './decide'
import { scopeOf, type LevelBudget } from './levels'
import { HeldAmounts } from './waiting'

export type CappedLevel = LevelBudget & { readonly maxBudget: number }

export type ReservationRequest = {
  /** The request id (the reservation's name in a shared store). */
  readonly id: string
  readonly levels: readonly CappedLevel[]
  readonly worst: WorstCase
  /** When an orphaned reservation (its instance crashed) stops counting: request timeout + 60 s. */
  readonly expiresAtMs: number
}

/** Releases the reservation the decision made (a no-op for refusals and waits). */
export type Reserved = StrictDecision & { release(): Promise<void> }

export interface Reservations {
  reserve(request: ReservationRequest): Promise<Reserved>
  /** True when other instances' reservations count too: waiters re-check on a timer, not only on local releases. */
  readonly shared: boolean
}

const nothing = async () => {}

export class LocalReservations implements Reservations {
  readonly shared = false
  private readonly book = new HeldAmounts()

  constructor(private readonly committed: Pick<CommittedSpend, 'read'>) {}

  async reserve({ levels, worst }: ReservationRequest): Promise<Reserved> {
    const committed = await Promise.all(levels.map((level) => this.committed.read(level)))
    // From here to the reservation nothing awaits: no other admission can reserve in between.
    const scopes = levels.map((level) => scopeOf(level.source))
    const states = levels.map((level, i) => ({ level, committed: committed[i], held: this.book.sum(scopes[i]) }))
    const decision = decideStrict(states, worst)
    if (decision.kind !== 'reserve') return { ...decision, release: nothing }
    this.book.add(scopes, decision.amount)
    let released = false
    return {
      ...decision,
      release: async () => {
        if (released) return
        released = true
        this.book.remove(scopes, decision.amount)
      },
    }
  }
}
