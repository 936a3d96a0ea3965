/** Time as a dependency, so budget windows and 60 s rate-limit windows are tested without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private current: number

  constructor(start: number | Date = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime()
  }

  now(): number {
    return this.current
  }

  advance(ms: number): void {
    this.current += ms
  }

  set(at: number | Date): void {
    this.current = typeof at === 'number' ? at : at.getTime()
  }
}
