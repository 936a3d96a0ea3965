/**
 * The compiled binary as a tested artifact: build it once per test run into a temp folder, start it from an
 * empty folder, wait until it listens, stop it with a signal.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

const ROOT = resolve(import.meta.dir, '..')
let built: Promise<string> | null = null

/** Builds dist-equivalent `tollgate` into a temp folder (once per test process) and returns its path. */
export function buildBinary(): Promise<string> {
  built ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'tollgate-bin-')), 'tollgate')
    const build = Bun.spawn(['bun', 'scripts/build.ts', '--outfile', outfile], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
    const code = await build.exited
    if (code !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`)
    return outfile
  })()
  return built
}

export function emptyFolder(): string {
  return mkdtempSync(join(tmpdir(), 'tollgate-run-'))
}

export type RunningBinary = {
  readonly process: Subprocess<'ignore', 'pipe', 'pipe'>
  readonly url: string
  readonly port: number
  /** Milliseconds from spawn to the "listening" line. */
  readonly readyMs: number
  output(): string
  /** SIGTERM (or another signal), then waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

export type StartOptions = { cwd: string; args?: string[]; env?: Record<string, string>; timeoutMs?: number }

/** Starts the binary and resolves once it logs that it listens (rejects with its output if it exits first). */
export async function startBinary(binary: string, options: StartOptions): Promise<RunningBinary> {
  const started = performance.now()
  const child = Bun.spawn([binary, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true })
  }
  void collect(child.stdout)
  void collect(child.stderr)

  const deadline = Date.now() + (options.timeoutMs ?? 15_000)
  for (;;) {
    const match = /"message":"Tollgate listening","url":"http:\/\/[^:]+:(\d+)"/.exec(output)
    if (match) {
      const port = Number(match[1])
      return {
        process: child,
        port,
        url: `http://127.0.0.1:${port}`,
        readyMs: performance.now() - started,
        output: () => output,
        async stop(signal = 'SIGTERM') {
          child.kill(signal)
          return child.exited
        },
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      await child.exited
      throw new Error(`tollgate did not start (exit ${child.exitCode}):\n${output}`)
    }
    await Bun.sleep(20)
  }
}

/** Runs the binary to completion (for --version, migrate, bad configs). */
export async function runBinary(binary: string, options: { cwd: string; args?: string[]; env?: Record<string, string> }) {
  const child = Bun.spawn([binary, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { stdout, stderr, code }
}
