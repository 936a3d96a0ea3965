/**
 * How a committed change reaches the caches: `publish` evicts here at once and, where a transport is attached
 * (Redis pub/sub, Postgres NOTIFY), on every other instance.
 */
import type { CacheKind, EntityCaches } from './entity-caches'

export type Invalidation = { kind: CacheKind; id: string }

/** Carries invalidations to other instances. */
export interface InvalidationTransport {
  send(message: Invalidation): Promise<void>
  /** Starts delivering other instances' messages to `receive`. */
  start(receive: (message: Invalidation) => void): Promise<void>
  stop(): Promise<void>
}

export type Invalidator = {
  /** Evicts locally, then tells the other instances. Call after the change has committed. */
  publish(...changes: Invalidation[]): Promise<void>
  /** Applies a message from another instance. */
  receive(message: Invalidation): void
  /**
   * Calls `listener` after every eviction, local or received (work that follows a change: budget gauges). It
   * runs synchronously and must not throw; slow work belongs behind it.
   */
  subscribe(listener: (message: Invalidation) => void): void
}

export function createInvalidator(caches: EntityCaches, transport: InvalidationTransport | null = null): Invalidator {
  const listeners: Array<(message: Invalidation) => void> = []
  const evict = (message: Invalidation) => {
    caches[message.kind]?.evict(message.id)
    for (const listener of listeners) listener(message)
  }
  return {
    async publish(...changes) {
      for (const change of changes) evict(change)
      if (!transport) return
      for (const change of changes) await transport.send(change)
    },
    receive: evict,
    subscribe: (listener) => void listeners.push(listener),
  }
}
