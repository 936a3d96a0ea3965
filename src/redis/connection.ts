/**
 * One Redis connection kept alive by hand: Bun's client neither re-subscribes after its own reconnect nor
 * reports that drop (oven-sh/bun#33450), and with an offline queue a command to a dead server waits instead of
 * failing. So the client is built with both off; a lost connection is replaced by a fresh client every
 * `retryMs`, and while it is down `run` fails at once so callers fall back to local work. A Redis outage is
 * logged, counted in `tollgate_redis_errors_total`, and never fails a request.
 */
import { RedisClient } from 'bun'
import type { Logger } from '../lib/logger'

export type RedisConnectionOptions = {
  url: string
  log: Logger
  /** tollgate_redis_errors_total */
  errors: { inc(): void }
  /** What this connection is for, and what happens while it is down (for the log). */
  role: string
  whileDown: string
  /** Runs on every new connection before it counts as up (subscriptions); a throw counts as a failed connect. */
  onConnect?: (client: RedisClient) => Promise<void>
  retryMs?: number
  commandTimeoutMs?: number
  connectTimeoutMs?: number
}

/** What `run` throws: Redis is down, timed out, or refused the command (already logged and counted). */
export class RedisOperationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RedisOperationError'
  }
}

class RedisUnavailableError extends RedisOperationError {}

export class RedisConnection {
  private client: RedisClient | null = null
  private connecting: Promise<void> | null = null
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private stopped = false
  /** An outage is logged once, when it starts; this is set until the connection is back. */
  private outageLogged = false
  private readonly listeners = new Set<(up: boolean) => void>()
  /** `redis://host:port/db` without credentials, for logs. */
  readonly location: string

  constructor(private readonly options: RedisConnectionOptions) {
    this.location = describeRedisUrl(options.url)
  }

  get up(): boolean {
    return this.client !== null
  }

  /** Connects once; when Redis does not answer, logs a warning and keeps trying in the background. */
  start(): Promise<void> {
    return this.connect()
  }

  /** Called with true when the connection comes up, false when it is lost. */
  onChange(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Runs `op` on the live client; throws at once while down, and on failure (after counting it). */
  async run<T>(op: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.client
    if (!client) throw new RedisUnavailableError('Redis unavailable: not connected')
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError('Redis unavailable: command timed out')), this.options.commandTimeoutMs ?? 1000)
    })
    try {
      return await Promise.race([op(client), timeout])
    } catch (error) {
      if (error instanceof RedisUnavailableError || !client.connected) {
        this.lost(client, error)
      } else {
        // A refused command on a live connection (not an outage): counted, and this call falls back.
        this.options.errors.inc()
        this.options.log.warn('Redis command failed', { role: this.options.role, redis: this.location, error: String(error) })
      }
      throw error instanceof RedisOperationError ? error : new RedisOperationError(`Redis command failed: ${String(error)}`, { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    await this.connecting?.catch(() => {})
    const client = this.client
    this.client = null
    client?.close()
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = null
    })
    return this.connecting
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.client) return
    let client: RedisClient | null = null
    try {
      const fresh = new RedisClient(this.options.url, {
        autoReconnect: false,
        enableOfflineQueue: false,
        connectionTimeout: this.options.connectTimeoutMs ?? 2000,
      })
      client = fresh
      fresh.onclose = (error) => this.lost(fresh, error)
      await fresh.connect()
      await this.options.onConnect?.(fresh)
    } catch (error) {
      if (client) {
        client.onclose = null
        client.close()
      }
      if (!this.outageLogged) this.outage(error)
      this.scheduleRetry()
      return
    }
    if (this.stopped) {
      client.onclose = null
      client.close()
      return
    }
    this.client = client
    if (this.outageLogged) this.options.log.info(`Redis reachable again (${this.options.role})`, { redis: this.location })
    this.outageLogged = false
    for (const listener of this.listeners) listener(true)
  }

  private lost(client: RedisClient, reason: unknown): void {
    if (this.client !== client) return
    this.client = null
    client.onclose = null
    client.close()
    if (this.stopped) return
    this.outage(reason)
    for (const listener of this.listeners) listener(false)
    this.scheduleRetry()
  }

  private outage(reason: unknown): void {
    this.outageLogged = true
    this.options.errors.inc()
    this.options.log.warn(`Redis unreachable (${this.options.role}); ${this.options.whileDown} until it answers`, {
      redis: this.location,
      error: String(reason),
    })
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      void this.connect()
    }, this.options.retryMs ?? 1000)
    this.retryTimer.unref?.()
  }
}

export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return 'redis'
  }
}
