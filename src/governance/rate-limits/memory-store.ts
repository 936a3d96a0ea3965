/**
 * Counters in this process: the store of a single instance, and the fallback while Redis is unreachable.
 * Every operation runs without an await between reading and writing, so check-then-count is atomic here.
 */
import type { Clock } from '../../lib/clock'
import { decide, type LevelState } from './decide'
import { isLimited, type LevelLimit } from './levels'
import type { Admission, CounterStore, FloatKey, SlotLease } from './store'
import { WINDOW_SECONDS, secondOf } from './window'

type Counters = { requests: Map<number, number>; tokens: Map<number, number>; inFlight: number; lastSecond: number }
type FloatEntry = { value: number; expiresAtMs: number; delta: number }

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, Counters>()
  private readonly floats = new Map<string, FloatEntry>()
  private lastSweep = 0

  constructor(private readonly clock: Clock) {}

  async admit(levels: readonly LevelLimit[], _lease: SlotLease): Promise<Admission> {
    const now = secondOf(this.clock.now())
    this.sweep(now)
    const limited = levels.filter(isLimited)
    const counters = limited.map((level) => this.countersOf(level))
    const states: LevelState[] = counters.map((c) => ({ requests: [...c.requests], tokens: [...c.tokens], inFlight: c.inFlight }))
    const decision = decide(limited, states, now)
    if (!decision.admitted) return { decision, releaseSlots: async () => {} }
    const held: Counters[] = []
    for (const [index, level] of limited.entries()) {
      const c = counters[index]
      c.lastSecond = now
      if (level.rpm !== null) c.requests.set(now, (c.requests.get(now) ?? 0) + 1)
      if (level.maxParallel !== null) {
        c.inFlight++
        held.push(c)
      }
    }
    return {
      decision,
      releaseSlots: async () => {
        for (const c of held.splice(0)) c.inFlight = Math.max(0, c.inFlight - 1)
      },
    }
  }

  async addTokens(levels: readonly LevelLimit[], tokens: number): Promise<void> {
    if (tokens <= 0) return
    const now = secondOf(this.clock.now())
    for (const level of levels) {
      if (level.tpm === null) continue
      const c = this.countersOf(level)
      c.lastSecond = now
      c.tokens.set(now, (c.tokens.get(now) ?? 0) + tokens)
    }
  }

  async getFloat(key: FloatKey): Promise<number | null> {
    return this.floatEntry(key)?.value ?? null
  }

  async seedFloat(key: FloatKey, value: number, ttlSeconds?: number): Promise<number> {
    const existing = this.floatEntry(key)
    if (existing) return existing.value
    const expiresAtMs = ttlSeconds === undefined ? Infinity : this.clock.now() + ttlSeconds * 1000
    this.floats.set(floatId(key), { value, expiresAtMs, delta: 0 })
    return value
  }

  async incrementFloat(key: FloatKey, amount: number): Promise<number | null> {
    const entry = this.floatEntry(key)
    if (!entry) return null
    entry.value += amount
    entry.delta += amount
    return entry.value
  }

  async deleteFloats(scope: string, options: { prefix?: boolean } = {}): Promise<number> {
    let dropped = 0
    for (const id of [...this.floats.keys()]) {
      const { scope: own } = parseFloatId(id)
      if (options.prefix ? own.startsWith(scope) : own === scope) {
        this.floats.delete(id)
        dropped++
      }
    }
    return dropped
  }

  /**
   * The increments made here since the last call, and forgets every float counter: after a Redis outage the
   * failover store replays them into Redis, and later reads seed from Redis or the database again.
   */
  takeFloatIncrements(): Array<{ key: FloatKey; amount: number }> {
    const increments = [...this.floats.entries()]
      .filter(([, entry]) => entry.delta !== 0)
      .map(([id, entry]) => ({ key: parseFloatId(id), amount: entry.delta }))
    this.floats.clear()
    return increments
  }

  private floatEntry(key: FloatKey): FloatEntry | null {
    const id = floatId(key)
    const entry = this.floats.get(id)
    if (!entry) return null
    if (entry.expiresAtMs <= this.clock.now()) {
      this.floats.delete(id)
      return null
    }
    return entry
  }

  private countersOf(level: LevelLimit): Counters {
    const id = `${level.level}\u0000${level.id}`
    let c = this.counters.get(id)
    if (!c) {
      c = { requests: new Map(), tokens: new Map(), inFlight: 0, lastSecond: 0 }
      this.counters.set(id, c)
    }
    return c
  }

  /** Once a window: drops seconds that left it, and levels with nothing counted and nothing in flight. */
  private sweep(now: number): void {
    if (now - this.lastSweep < WINDOW_SECONDS) {
      return
    }
    this.lastSweep = now
    const oldest = now - WINDOW_SECONDS + 1
    for (const [id, c] of this.counters) {
      if (c.lastSecond < oldest && c.inFlight === 0) {
        this.counters.delete(id)
        continue
      }
      for (const second of c.requests.keys()) if (second < oldest) c.requests.delete(second)
      for (const second of c.tokens.keys()) if (second < oldest) c.tokens.delete(second)
    }
  }
}

const SEPARATOR = '\u0000'
const floatId = (key: FloatKey) => `${key.scope}${SEPARATOR}${key.window}`
function parseFloatId(id: string): FloatKey {
  const at = id.lastIndexOf(SEPARATOR)
  return { scope: id.slice(0, at), window: id.slice(at + 1) }
}
