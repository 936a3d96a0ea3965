/**
 * Where usage records go. The proxy calls `record` exactly once per forwarded request, before it releases
 * the request's admission (so a budget's in-flight estimate is replaced by committed spend, never dropped
 * first). Spend accounting implements this with a durable spool; until then the in-memory sink keeps them.
 */
import type { UsageRecord } from './record'

export interface UsageSink {
  /**
   * Takes one finished request. Must not throw for a well-formed record; a rejection is logged by the proxy and
   * never reaches the client. Slow work (database writes) belongs behind the sink, off the request path.
   */
  record(record: UsageRecord): void | Promise<void>
}

/** Keeps every record in memory, in arrival order (tests, and the gateway until spend accounting lands). */
export class MemoryUsageSink implements UsageSink {
  readonly records: UsageRecord[] = []
  private waiters: Array<{ count: number; resolve: () => void }> = []
  /**
   * Oldest records are dropped beyond `maxRecords` (in batches of a tenth, so dropping stays cheap), so a
   * long-running process does not grow without bound.
   */
  constructor(private readonly maxRecords = 10_000) {}

  record(record: UsageRecord): void {
    this.records.push(record)
    if (this.records.length > this.maxRecords + Math.ceil(this.maxRecords / 10)) this.records.splice(0, this.records.length - this.maxRecords)
    if (this.waiters.length === 0) return
    this.waiters = this.waiters.filter((waiter) => {
      if (this.records.length < waiter.count) return true
      waiter.resolve()
      return false
    })
  }

  /** Resolves once at least `count` records have arrived (streams settle after the response is read). */
  waitFor(count: number): Promise<void> {
    if (this.records.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ count, resolve }))
  }

  byRequestId(requestId: string): UsageRecord[] {
    return this.records.filter((record) => record.requestId === requestId)
  }
}

/** Hands every record to each sink in turn (spend accounting, metrics, a test's memory sink). */
export function fanOut(...sinks: ReadonlyArray<UsageSink | null | undefined>): UsageSink {
  const present = sinks.filter((sink): sink is UsageSink => Boolean(sink))
  if (present.length === 1) return present[0]
  return {
    async record(record) {
      for (const sink of present) await sink.record(record)
    },
  }
}
