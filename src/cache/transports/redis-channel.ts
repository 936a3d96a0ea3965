/**
 * Redis pub/sub. Publishing shares the counters' connection; listening needs a connection of its own (a
 * subscribed connection runs nothing else), kept alive by RedisConnection, which re-subscribes on every new
 * connection.
 */
import type { Logger } from '../../lib/logger'
import { RedisConnection } from '../../redis/connection'
import type { PubSubChannel } from './channel'

export const REDIS_INVALIDATION_CHANNEL = 'tollgate:invalidation'

export class RedisChannel implements PubSubChannel {
  private subscriber: RedisConnection | null = null

  constructor(
    private readonly publisher: RedisConnection,
    private readonly options: { url: string; log: Logger; errors: { inc(): void }; retryMs?: number },
  ) {}

  async publish(payload: string): Promise<void> {
    await this.publisher.run((client) => client.publish(REDIS_INVALIDATION_CHANNEL, payload))
  }

  async listen(onMessage: (payload: string) => void, onConnection: (up: boolean) => void): Promise<void> {
    const subscriber = new RedisConnection({
      ...this.options,
      role: 'cache invalidation',
      whileDown: 'cached keys, teams and users are re-read every second',
      onConnect: async (client) => {
        await client.subscribe(REDIS_INVALIDATION_CHANNEL, (message) => onMessage(message))
      },
    })
    subscriber.onChange(onConnection)
    this.subscriber = subscriber
    await subscriber.start()
  }

  async close(): Promise<void> {
    await this.subscriber?.stop()
    this.subscriber = null
  }
}
