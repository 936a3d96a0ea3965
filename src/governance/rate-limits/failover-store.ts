/**
 * Redis while it answers, this process otherwise: a Redis outage changes limits from shared to per instance
 * (the connection logs it and counts tollgate_redis_errors_total) and never fails a request. Slots are
 * released in the store that took them. Budget increments made locally during an outage are replayed into
 * Redis when it returns, so shared spend does not lose them.
 */
import type { Logger } from '../../lib/logger'
import { RedisOperationError, type RedisConnection } from '../../redis/connection'
import type { LevelLimit } from './levels'
import type { MemoryCounterStore } from './memory-store'
import type { Admission, CounterStore, FloatKey, SlotLease } from './store'

export class FailoverCounterStore implements CounterStore {
  constructor(
    private readonly shared: CounterStore,
    private readonly local: MemoryCounterStore,
    private readonly connection: RedisConnection,
    private readonly log: Logger,
  ) {
    connection.onChange((up) => {
      if (up) void this.replayLocalIncrements()
    })
  }

  admit(levels: readonly LevelLimit[], lease: SlotLease): Promise<Admission> {
    return this.either((store) => store.admit(levels, lease))
  }

  addTokens(levels: readonly LevelLimit[], tokens: number): Promise<void> {
    return this.either((store) => store.addTokens(levels, tokens))
  }

  getFloat(key: FloatKey): Promise<number | null> {
    return this.either((store) => store.getFloat(key))
  }

  seedFloat(key: FloatKey, value: number, ttlSeconds?: number): Promise<number> {
    return this.either((store) => store.seedFloat(key, value, ttlSeconds))
  }

  incrementFloat(key: FloatKey, amount: number): Promise<number | null> {
    return this.either((store) => store.incrementFloat(key, amount))
  }

  /** Both stores: a counter seeded locally during an outage must not outlive the overwrite either. */
  async deleteFloats(scope: string, options?: { prefix?: boolean }): Promise<number> {
    const local = await this.local.deleteFloats(scope, options)
    if (!this.connection.up) return local
    try {
      return local + (await this.shared.deleteFloats(scope, options))
    } catch (error) {
      if (!(error instanceof RedisOperationError)) this.log.error('shared counters failed; counting locally', { error: String(error) })
      return local
    }
  }

  /** Redis when connected; on any failure (already logged and counted by the connection) this process. */
  private async either<T>(op: (store: CounterStore) => Promise<T>): Promise<T> {
    if (this.connection.up) {
      try {
        return await op(this.shared)
      } catch (error) {
        // Redis failures are logged and counted by the connection; anything else is a bug worth an error line.
        if (!(error instanceof RedisOperationError)) this.log.error('shared counters failed; counting locally', { error: String(error) })
      }
    }
    return op(this.local)
  }

  private async replayLocalIncrements(): Promise<void> {
    for (const { key, amount } of this.local.takeFloatIncrements()) {
      try {
        // An unseeded counter is seeded from the database later, which already holds this spend.
        await this.shared.incrementFloat(key, amount)
      } catch (error) {
        this.log.warn('could not replay a local budget increment into Redis', { scope: key.scope, error: String(error) })
      }
    }
  }
}
