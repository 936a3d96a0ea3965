/**
 * Immutable snapshots of database rows, served from memory so the proxy's hot path makes no database round
 * trip. A fresh entry is returned as is; an entry past its TTL is still returned while one background load
 * replaces it; a missing entry is loaded once however many requests ask at the same moment. `evict` is how a
 * change becomes visible: it also orphans a load in flight, so a read that raced the change is never stored.
 */
import type { Clock } from '../lib/clock'

type Entry<V> = { value: V | null; loadedAt: number }

export type SnapshotCacheOptions = {
  clock: Clock
  ttlMs: number
  /** Oldest entries are dropped beyond this many (bounds memory under random unknown keys). */
  maxEntries?: number
  onRefreshError?: (error: unknown) => void
}

export class SnapshotCache<V> {
  private readonly entries = new Map<string, Entry<V>>()
  private readonly loading = new Map<string, Promise<V | null>>()
  private ttlMs: number

  constructor(
    private readonly loader: (id: string) => Promise<V | null>,
    private readonly options: SnapshotCacheOptions,
  ) {
    this.ttlMs = options.ttlMs
  }

  async get(id: string): Promise<V | null> {
    const entry = this.entries.get(id)
    if (entry) {
      if (this.options.clock.now() - entry.loadedAt >= this.ttlMs && !this.loading.has(id)) {
        this.load(id).catch((error) => this.options.onRefreshError?.(error))
      }
      return entry.value
    }
    return this.loading.get(id) ?? this.load(id)
  }

  /** The cached value without loading: undefined when not cached, null when cached as absent. */
  peek(id: string): V | null | undefined {
    return this.entries.get(id)?.value
  }

  evict(id: string): void {
    this.entries.delete(id)
    this.loading.delete(id)
  }

  clear(): void {
    this.entries.clear()
    this.loading.clear()
  }

  /** Shortened while cross-instance invalidation is down, so other instances' changes still arrive soon. */
  setTtl(ms: number): void {
    this.ttlMs = ms
  }

  get size(): number {
    return this.entries.size
  }

  private load(id: string): Promise<V | null> {
    const promise = this.loader(id).then(
      (value) => {
        if (this.loading.get(id) === promise) {
          this.loading.delete(id)
          this.store(id, value)
        }
        return value
      },
      (error) => {
        if (this.loading.get(id) === promise) this.loading.delete(id)
        throw error
      },
    )
    this.loading.set(id, promise)
    return promise
  }

  private store(id: string, value: V | null): void {
    this.entries.delete(id)
    this.entries.set(id, { value, loadedAt: this.options.clock.now() })
    const max = this.options.maxEntries ?? 100_000
    while (this.entries.size > max) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
  }
}
