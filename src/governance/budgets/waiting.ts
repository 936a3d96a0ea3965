/**
 * What this instance holds per scope, and the requests waiting for it to shrink.
 *
 * `HeldAmounts`: Σ of in-flight estimates (default mode) or of reservations (strict mode on one instance) per
 * scope, exactly 0 once nothing is held. `WaitQueue`: requests that may not be admitted yet, holding nothing,
 * in arrival order; a settlement wakes the waiters blocked on its scopes (the earliest re-evaluate first), and
 * a new request queues behind earlier waiters blocked on one of its scopes instead of overtaking them.
 */

export class HeldAmounts {
  private readonly held = new Map<string, { sum: number; count: number }>()

  sum(scope: string): number {
    return this.held.get(scope)?.sum ?? 0
  }

  add(scopes: readonly string[], amount: number): void {
    for (const scope of scopes) {
      const entry = this.held.get(scope) ?? { sum: 0, count: 0 }
      entry.sum += amount
      entry.count += 1
      this.held.set(scope, entry)
    }
  }

  remove(scopes: readonly string[], amount: number): void {
    for (const scope of scopes) {
      const entry = this.held.get(scope)
      if (!entry) continue
      entry.count -= 1
      entry.sum -= amount
      // Exactly 0 when nothing is held, whatever rounding the subtractions left.
      if (entry.count <= 0) this.held.delete(scope)
    }
  }
}

export type WaitOutcome = 'woken' | 'timeout' | 'aborted'

type Waiter = { readonly seq: number; readonly blocking: string; readonly wake: (outcome: WaitOutcome) => void }

export class WaitQueue {
  private waiters: Waiter[] = []
  private sequence = 0

  /** An arrival's place in line. */
  ticket(): number {
    return ++this.sequence
  }

  get length(): number {
    return this.waiters.length
  }

  /** A scope among `scopes` that an earlier waiter (before `seq`) is blocked on: the arrival queues behind it. */
  blockedAmong(scopes: readonly string[], seq: number): string | null {
    return this.waiters.find((waiter) => waiter.seq < seq && scopes.includes(waiter.blocking))?.blocking ?? null
  }

  /**
   * Waits (registered synchronously, in `seq` order) until a settlement on `blocking` wakes it, `pollMs` passes
   * (a re-check for changes no local settlement announces), `deadline` (ms, performance.now) passes, or the
   * client goes away.
   */
  wait(seq: number, blocking: string, deadline: number, signal: AbortSignal | null, pollMs: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve('aborted')
      const remaining = deadline - performance.now()
      if (remaining <= 0) return resolve('timeout')
      const finish = (outcome: WaitOutcome) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.waiters = this.waiters.filter((w) => w !== waiter)
        resolve(outcome)
      }
      const onAbort = () => finish('aborted')
      const timer = setTimeout(() => finish(remaining <= pollMs ? 'timeout' : 'woken'), Math.min(remaining, pollMs))
      const waiter: Waiter = { seq, blocking, wake: finish }
      signal?.addEventListener('abort', onAbort, { once: true })
      const at = this.waiters.findIndex((w) => w.seq > seq)
      if (at === -1) this.waiters.push(waiter)
      else this.waiters.splice(at, 0, waiter)
    })
  }

  /** Something held on these scopes was given back: wake their waiters, earliest first. */
  wake(scopes: readonly string[]): void {
    for (const waiter of this.waiters.filter((w) => scopes.includes(w.blocking))) waiter.wake('woken')
  }
}
