/**
 * Postgres LISTEN/NOTIFY, for several instances on one Postgres without Redis. postgres.js keeps the LISTEN
 * connection alive and re-listens after a reconnect; the transport's heartbeats notice a gap.
 */
import type { Database } from '../../db/database'
import type { PubSubChannel } from './channel'

export const POSTGRES_INVALIDATION_CHANNEL = 'tollgate_invalidation'

type Notifying = Pick<Database, 'location'> & {
  listen: NonNullable<Database['listen']>
  notify: NonNullable<Database['notify']>
}

export class PostgresChannel implements PubSubChannel {
  private unlisten: (() => Promise<void>) | null = null

  constructor(private readonly database: Notifying) {}

  publish(payload: string): Promise<void> {
    return this.database.notify(POSTGRES_INVALIDATION_CHANNEL, payload)
  }

  async listen(onMessage: (payload: string) => void): Promise<void> {
    this.unlisten = await this.database.listen(POSTGRES_INVALIDATION_CHANNEL, onMessage)
  }

  async close(): Promise<void> {
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.()
  }
}
