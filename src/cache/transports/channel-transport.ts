/**
 * Cache invalidation between instances over a PubSubChannel. Each message names its sender, so an instance
 * skips its own invalidations (publish already evicted them locally). Every `heartbeatMs` an instance also
 * sends a heartbeat to itself through the channel: while its own heartbeats come back the channel is healthy;
 * when none has come back for `downAfterMs` (or the channel reports a lost connection, or a send fails) it is
 * down, and `onHealth(false)` lets the caller shorten the cache TTL to 1 s. Back up, `onHealth(true)`: the
 * caller restores the TTL and drops everything cached, since invalidations sent meanwhile were lost.
 * Heartbeats run on real timers (this is about a network, not the injectable clock's windows).
 */
import type { Logger } from '../../lib/logger'
import type { CacheKind } from '../entity-caches'
import type { Invalidation, InvalidationTransport } from '../invalidation'
import type { PubSubChannel } from './channel'

type Message = { o: string; t: number } & ({ h: 1 } | { k: CacheKind; i: string })

export type ChannelTransportOptions = {
  log: Logger
  /** Called when the channel turns unhealthy (false) and healthy again (true). */
  onHealth: (healthy: boolean) => void
  /** tollgate_cache_invalidation_lag_seconds */
  lag: { set(seconds: number): void }
  heartbeatMs?: number
  downAfterMs?: number
}

export class ChannelTransport implements InvalidationTransport {
  private readonly origin = crypto.randomUUID()
  private started = false
  private listening = false
  private listenPending = false
  private healthy = true
  private lastHeartbeat = 0
  private timer: ReturnType<typeof setInterval> | null = null
  private receive: ((message: Invalidation) => void) | null = null

  constructor(
    private readonly channel: PubSubChannel,
    private readonly options: ChannelTransportOptions,
  ) {}

  /** Whether invalidations are known to be arriving (tests and diagnostics). */
  get isHealthy(): boolean {
    return this.started && this.healthy
  }

  async send(message: Invalidation): Promise<void> {
    // Before start (tests that never start the lifecycle, a CLI command) nothing listens; don't send.
    if (!this.started) return
    await this.publish({ o: this.origin, t: Date.now(), k: message.kind, i: message.id })
  }

  async start(receive: (message: Invalidation) => void): Promise<void> {
    this.receive = receive
    this.started = true
    this.lastHeartbeat = performance.now()
    await this.listen()
    const every = this.options.heartbeatMs ?? 500
    this.timer = setInterval(() => this.tick(), every)
    this.timer.unref?.()
    this.beat()
  }

  async stop(): Promise<void> {
    this.started = false
    this.listening = false
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.channel.close()
  }

  private async listen(): Promise<void> {
    if (this.listenPending) return
    this.listenPending = true
    try {
      await this.channel.listen(
        (payload) => this.onPayload(payload),
        (up) => (up ? this.beat() : this.setHealthy(false, 'connection lost')),
      )
      this.listening = true
    } catch (error) {
      this.setHealthy(false, String(error))
    } finally {
      this.listenPending = false
    }
  }

  private tick(): void {
    if (!this.listening) void this.listen()
    if (performance.now() - this.lastHeartbeat > (this.options.downAfterMs ?? 1500)) this.setHealthy(false, 'heartbeats stopped arriving')
    this.beat()
  }

  private beat(): void {
    if (this.started) void this.publish({ o: this.origin, t: Date.now(), h: 1 })
  }

  private async publish(message: Message): Promise<void> {
    try {
      await this.channel.publish(JSON.stringify(message))
    } catch (error) {
      this.setHealthy(false, String(error))
    }
  }

  private onPayload(payload: string): void {
    let message: Message
    try {
      message = JSON.parse(payload)
    } catch {
      return
    }
    if (typeof message?.o !== 'string' || typeof message.t !== 'number') return
    this.options.lag.set(Math.max(0, (Date.now() - message.t) / 1000))
    if (message.o === this.origin) {
      if ('h' in message) {
        this.lastHeartbeat = performance.now()
        this.setHealthy(true)
      }
      return
    }
    if (!('k' in message) || typeof message.k !== 'string' || typeof message.i !== 'string') return
    try {
      this.receive?.({ kind: message.k, id: message.i })
    } catch (error) {
      this.options.log.warn('ignored a malformed cache invalidation', { kind: message.k, error: String(error) })
    }
  }

  private setHealthy(healthy: boolean, reason?: string): void {
    if (this.healthy === healthy || !this.started) return
    this.healthy = healthy
    if (healthy) this.options.log.info('cache invalidation channel is back; cache TTL restored')
    else this.options.log.warn('cache invalidation channel is down; cache TTL is 1 s until it recovers', { reason })
    this.options.onHealth(healthy)
  }
}
