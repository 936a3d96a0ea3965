/**
 * A TCP forwarder a test can cut, standing in for a database server that stops and comes back (never stop the
 * shared server). `cut()` destroys open connections and answers new ones with a reset, as a stopped server's
 * port would; it keeps listening, so no other socket can take the port meanwhile. `restore()` forwards again.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export type TcpProxy = {
  readonly port: number
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let open = true
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server: Server = createServer((client) => {
    track(client)
    if (!open) {
      client.resetAndDestroy()
      return
    }
    const upstream = createConnection({ host: target.host, port: target.port })
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('proxy did not bind')
  const cut = () => {
    open = false
    for (const socket of sockets) socket.destroy()
  }
  return {
    port: address.port,
    cut,
    restore: () => void (open = true),
    close() {
      cut()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
