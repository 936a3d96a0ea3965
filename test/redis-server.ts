/**
 * A private redis-server for one test file, on a spare port, so a test may stop and restart it (never the
 * shared server at 6379). `stop()` kills it the way a crash would; `start()` brings it back, empty, on the
 * same port.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type PrivateRedis = {
  readonly port: number
  readonly url: string
  start(): Promise<void>
  /** Kills it like a crash (its data is lost), or with `keepData` shuts it down saving to disk for the next start. */
  stop(options?: { keepData?: boolean }): Promise<void>
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, like a hung server. */
  pause(): void
  resume(): void
  /** Stops it and removes its folder. */
  close(): Promise<void>
}

export const redisServerAvailable = Bun.which('redis-server') !== null

async function sparePort(): Promise<number> {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

async function answers(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const folder = mkdtempSync(join(tmpdir(), 'tollgate-redis-'))
  const port = await sparePort()
  let process: ReturnType<typeof Bun.spawn> | null = null

  const start = async () => {
    process = Bun.spawn(
      ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', folder],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    for (let i = 0; i < 200; i++) {
      if (await answers(port)) return
      await Bun.sleep(10)
    }
    throw new Error(`private redis-server on port ${port} did not start`)
  }
  const stop = async (options: { keepData?: boolean } = {}) => {
    const running = process
    process = null
    if (!running) return
    if (options.keepData) {
      const client = new Bun.RedisClient(`redis://127.0.0.1:${port}`)
      await client.send('SHUTDOWN', ['SAVE']).catch(() => {})
      client.close()
    } else {
      running.kill('SIGKILL')
    }
    await running.exited
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    pause: () => process?.kill('SIGSTOP'),
    resume: () => process?.kill('SIGCONT'),
    async close() {
      if (process) process.kill('SIGCONT')
      await stop()
      rmSync(folder, { recursive: true, force: true })
    },
  }
}

/** Polls `check` until it holds or `ms` pass (for events that arrive over a network, not for time windows). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    if (await check()) return true
    await Bun.sleep(10)
  }
  return check()
}
