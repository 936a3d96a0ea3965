/**
 * `bun run bench`: the gateway's overhead, measured. Starts three processes — the fake upstream, the gateway
 * (a team and a key with budgets and limits set, so every check of the hot path runs) and a bare Bun.serve
 * forwarder to the same upstream — then drives the upstream directly, the forwarder and the gateway with the
 * same non-stream chat request, at concurrency 16 and 1, from this process with `fetch`. Prints requests/s and
 * p50/p99 for each, and the gateway/forwarder ratios. Not a CI gate.
 *
 * The three targets are measured in interleaved one-second slices (direct, forwarder, gateway, direct, …), so
 * load from elsewhere on the machine falls on all three alike; the ratios are also given as the median of the
 * per-round ratios. BENCH_SECONDS (default 5) is the number of rounds, i.e. measured seconds per target.
 * "CPU µs/request" is the CPU time the measured process itself used (the upstream for `direct`), from /proc:
 * unlike req/s it barely moves with other load on the machine.
 * BENCH_PROFILE=DIR writes a CPU profile of the gateway process (markdown) into DIR.
 * BENCH_DATABASE_URL=postgres://… runs the gateway on that (empty) Postgres database instead of a libSQL file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { openDatabase } from '../src/db/open'
import { createRepositories } from '../src/db/repositories'
import { systemClock } from '../src/lib/clock'
import { insertKey, insertTeam, insertUser } from '../test/fixtures'

const ROOT = resolve(import.meta.dir, '..')
const ROUNDS = Number(process.env.BENCH_SECONDS ?? 5)
const MASTER_KEY = 'sk-bench-master-key-0123456789abcdef'
const children: Subprocess[] = []

type Started = { url: string; pid: number }

/** CPU time (user + system) a process has used, in ms; null where /proc is not available. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in 1/100 s ticks
  } catch {
    return null
  }
}

/** Spawns a process and waits for a line matching `ready` on its stdout; returns the first capture and its pid. */
async function start(command: string[], cwd: string, ready: RegExp): Promise<Started> {
  const database = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}
  const child = Bun.spawn(command, { cwd, stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...database, NODE_ENV: 'production' } })
  children.push(child)
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let output = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    output += decoder.decode(value, { stream: true })
    const match = ready.exec(output)
    if (match) {
      // Keep draining its output so the child never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done) {}
      })()
      return { url: match[1], pid: child.pid }
    }
  }
  throw new Error(`${command.join(' ')} exited before it was ready:\n${output}`)
}

async function startGateway(upstreamUrl: string): Promise<Started & { key: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'tollgate-bench-'))
  writeFileSync(
    join(folder, 'config.yaml'),
    [
      'model_list:',
      '  - model_name: gpt-4o',
      '    litellm_params:',
      '      model: openai/gpt-4o',
      `      api_base: ${upstreamUrl}/v1`,
      '      api_key: upstream-key',
      '      input_cost_per_token: 0.0000025',
      '      output_cost_per_token: 0.00001',
      'general_settings:',
      `  master_key: ${MASTER_KEY}`,
      '',
    ].join('\n'),
  )
  const env = { ...process.env, ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}) }
  const migrate = Bun.spawn(['bun', join(ROOT, 'src/main.ts'), 'migrate', '--config', 'config.yaml'], { cwd: folder, env, stdout: 'ignore', stderr: 'inherit' })
  if ((await migrate.exited) !== 0) throw new Error('migrate failed')
  // BENCH_DATABASE_URL (an empty Postgres database) benches the gateway on Postgres; else its libSQL file.
  const database = await openDatabase(process.env.BENCH_DATABASE_URL ?? `file:${join(folder, 'tollgate.db')}`)
  const repos = createRepositories(database, systemClock)
  const user = await insertUser(repos, { maxBudget: 1_000_000, tpmLimit: 1_000_000_000, rpmLimit: 1_000_000_000 })
  const team = await insertTeam(repos, { teamAlias: 'bench', models: ['gpt-4o'], maxBudget: 1_000_000, tpmLimit: 1_000_000_000, rpmLimit: 1_000_000_000 })
  await repos.memberships.insert({ userId: user.userId, teamId: team.teamId, role: 'user' })
  const { key } = await insertKey(repos, {
    teamId: team.teamId,
    userId: user.userId,
    keyAlias: 'bench-key',
    maxBudget: 1_000_000,
    tpmLimit: 1_000_000_000,
    rpmLimit: 1_000_000_000,
    maxParallelRequests: 1_000,
  })
  await database.close()
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof-md', `--cpu-prof-dir=${resolve(process.env.BENCH_PROFILE)}`] : []
  const command = ['bun', ...profile, join(ROOT, 'src/main.ts'), '--config', 'config.yaml', '--port', '0', '--host', '127.0.0.1']
  return { ...(await start(command, folder, /"url":"(http:\/\/[^"]+)"/)), key }
}

type Target = { name: string; url: string; headers: Record<string, string>; pid: number }
type Sample = { requests: number; errors: number; seconds: number; latencies: number[]; cpuMs: number | null }
type Result = { requests: number; errors: number; perSecond: number; p50: number; p99: number; cpuPerRequestUs: number | null }

const BODY = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })

async function drive(target: Target, concurrency: number, seconds: number): Promise<Sample> {
  const latencies: number[] = []
  let errors = 0
  const deadline = performance.now() + seconds * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now()
      const response = await fetch(target.url, { method: 'POST', headers: target.headers, body: BODY })
      await response.arrayBuffer()
      latencies.push(performance.now() - started)
      if (response.status !== 200) errors++
    }
  }
  const began = performance.now()
  const cpuBefore = cpuMs(target.pid)
  await Promise.all(Array.from({ length: concurrency }, worker))
  const cpuAfter = cpuMs(target.pid)
  const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore
  return { requests: latencies.length, errors, seconds: (performance.now() - began) / 1000, latencies, cpuMs: cpu }
}

function summarize(samples: Sample[]): Result {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0)
  const errors = samples.reduce((sum, s) => sum + s.errors, 0)
  const cpu = samples.every((s) => s.cpuMs !== null) ? samples.reduce((sum, s) => sum + s.cpuMs!, 0) : null
  const cpuPerRequestUs = cpu === null ? null : (cpu * 1000) / latencies.length
  return { requests: latencies.length, errors, perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), cpuPerRequestUs }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function main() {
  const upstream = await start(['bun', join(ROOT, 'scripts/fake-upstream.ts')], ROOT, /FAKE_UPSTREAM_URL=(\S+)/)
  const forwarder = await start(['bun', join(ROOT, 'scripts/bench/forwarder.ts'), upstream.url], ROOT, /FORWARDER_URL=(\S+)/)
  const gateway = await startGateway(upstream.url)
  const json = { 'content-type': 'application/json' }
  const targets: Target[] = [
    { name: 'direct', url: `${upstream.url}/v1/chat/completions`, headers: { ...json, authorization: 'Bearer upstream-key' }, pid: upstream.pid },
    { name: 'forwarder', url: `${forwarder.url}/v1/chat/completions`, headers: json, pid: forwarder.pid },
    { name: 'gateway', url: `${gateway.url}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${gateway.key}` }, pid: gateway.pid },
  ]
  const results = new Map<string, Result>()
  const roundRatios = new Map<number, number[]>()
  for (const concurrency of [16, 1]) {
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]))
    for (const target of targets) await drive(target, concurrency, 1)
    const ratios: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const rates: Record<string, number> = {}
      for (const target of targets) {
        const sample = await drive(target, concurrency, 1)
        samples.get(target.name)!.push(sample)
        rates[target.name] = sample.requests / sample.seconds
      }
      ratios.push(rates.gateway / rates.forwarder)
    }
    roundRatios.set(concurrency, ratios)
    for (const target of targets) {
      const result = summarize(samples.get(target.name)!)
      results.set(`${target.name}@${concurrency}`, result)
      console.log(
        `${target.name.padEnd(10)} c=${String(concurrency).padEnd(3)} ${result.perSecond.toFixed(0).padStart(7)} req/s   p50 ${result.p50.toFixed(3)} ms   p99 ${result.p99.toFixed(3)} ms   ` +
          `CPU ${result.cpuPerRequestUs === null ? '?' : result.cpuPerRequestUs.toFixed(0)} µs/request   (${result.requests} requests, ${result.errors} errors)`,
      )
    }
  }
  const get = (name: string) => results.get(name)!
  const ratio = (c: number) => get(`gateway@${c}`).perSecond / get(`forwarder@${c}`).perSecond
  const addedGateway = get('gateway@1').p50 - get('direct@1').p50
  const addedForwarder = get('forwarder@1').p50 - get('direct@1').p50
  console.log('')
  console.log(
    `gateway/forwarder throughput: c=16 ${ratio(16).toFixed(2)}x (median of rounds ${median(roundRatios.get(16)!).toFixed(2)}x), ` +
      `c=1 ${ratio(1).toFixed(2)}x (median of rounds ${median(roundRatios.get(1)!).toFixed(2)}x)   (aim ≥ 0.70x)`,
  )
  console.log(
    `added p50 at c=1 over direct: gateway ${addedGateway.toFixed(3)} ms, forwarder ${addedForwarder.toFixed(3)} ms, ratio ${(addedGateway / addedForwarder).toFixed(2)}x   (aim ≤ 2x)`,
  )
}

try {
  await main()
} finally {
  for (const child of children) child.kill('SIGTERM')
}
