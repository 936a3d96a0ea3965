/** A broadcast channel between instances (Redis pub/sub, Postgres LISTEN/NOTIFY); the sender hears itself too. */
export interface PubSubChannel {
  /** Sends to every listening instance. Throws when the channel cannot send. */
  publish(payload: string): Promise<void>
  /**
   * Starts listening. `onConnection(false)` when the channel knows it lost its connection, `true` when it has
   * it back (delivery is confirmed by the transport's heartbeats, not by this).
   */
  listen(onMessage: (payload: string) => void, onConnection: (up: boolean) => void): Promise<void>
  close(): Promise<void>
}
