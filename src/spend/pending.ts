/**
 * This instance's settlements that are in the spool but not yet committed: how many, since when, and how much
 * they add per entity (what management reads add to the stored spend, so spend is visible at once on the
 * instance that served the request). Memory is per entity and 8 bytes per row, never the rows themselves.
 */
import type { Charge, EntityKind } from './increments'

/** Recording times of the unsettled rows, oldest first. */
class TimeQueue {
  private items: number[] = []
  private start = 0

  get size(): number {
    return this.items.length - this.start
  }

  get oldest(): number | undefined {
    return this.size > 0 ? this.items[this.start] : undefined
  }

  push(at: number): void {
    this.items.push(at)
  }

  drop(count: number): void {
    this.start = Math.min(this.start + count, this.items.length)
    if (this.start === this.items.length) {
      this.items = []
      this.start = 0
    } else if (this.start > 65_536 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start)
      this.start = 0
    }
  }
}

export class PendingSpend {
  private readonly times = new TimeQueue()
  private readonly sums = new Map<string, { sum: number; rows: number }>()

  get count(): number {
    return this.times.size
  }

  /** Milliseconds since the epoch at which the oldest unsettled row was recorded. */
  get oldestRecordedAt(): number | undefined {
    return this.times.oldest
  }

  add(recordedAt: number, charges: readonly Charge[]): void {
    this.times.push(recordedAt)
    for (const charge of charges) {
      const id = entityId(charge.kind, charge.id)
      const entry = this.sums.get(id) ?? { sum: 0, rows: 0 }
      entry.sum += charge.amount
      entry.rows += 1
      this.sums.set(id, entry)
    }
  }

  /** The oldest `rows` rows have settled (or were found settled before): their charges leave the sums. */
  settle(rows: number, charges: readonly Charge[]): void {
    this.times.drop(rows)
    for (const charge of charges) {
      const id = entityId(charge.kind, charge.id)
      const entry = this.sums.get(id)
      if (!entry) continue
      entry.rows -= 1
      entry.sum -= charge.amount
      // Exactly 0 once nothing is pending, whatever rounding the subtractions left.
      if (entry.rows <= 0) this.sums.delete(id)
    }
  }

  spendOf(kind: EntityKind, id: string): number {
    return this.sums.get(entityId(kind, id))?.sum ?? 0
  }
}

function entityId(kind: EntityKind, id: string): string {
  return `${kind}\n${id}`
}
