/**
 * The parts of the listening server the app needs per request. main.ts attaches the Bun server after it
 * listens; in-process tests (`app.handle`) have none attached, and both calls then do nothing.
 */
type BunServerLike = {
  timeout(request: Request, seconds: number): void
  requestIP(request: Request): { address: string } | null
}

export type ServerHandle = {
  attach(server: BunServerLike): void
  /** Keeps one request's connection open however long it is silent (slow models; streams also send keep-alives). */
  disableIdleTimeout(request: Request): void
  /** The client's address, or null when unknown. */
  clientIp(request: Request): string | null
}

export function createServerHandle(): ServerHandle {
  let server: BunServerLike | null = null
  return {
    attach(value) {
      server = value
    },
    disableIdleTimeout(request) {
      server?.timeout(request, 0)
    },
    clientIp(request) {
      try {
        return server?.requestIP(request)?.address ?? null
      } catch {
        return null
      }
    },
  }
}
