/**
 * Several compiled instances on one Postgres and one Redis (a private redis-server the test may stop): limits
 * hold across instances, a revocation through one instance reaches the other within a second, and a Redis
 * outage degrades to local counting instead of failing requests.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pythonFloat } from '../src/lib/python-float'
import { buildBinary, emptyFolder, startBinary, type RunningBinary } from './binary'
import { describePostgres, postgresEngine, type TestDatabase } from './engines'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { eventually, startPrivateRedis, type PrivateRedis } from './redis-server'

const MASTER = 'sk-multi-instance-master-key-0123456789'

describePostgres('two compiled instances on one Postgres and one Redis', () => {
  let database: TestDatabase
  let redis: PrivateRedis
  let upstream: FakeUpstream
  let a: RunningBinary
  let b: RunningBinary

  const call = (instance: RunningBinary, method: string, path: string, body?: unknown, key = MASTER) =>
    fetch(`${instance.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const chat = (instance: RunningBinary, key: string) =>
    call(instance, 'POST', '/v1/chat/completions', { model: 'llama3', messages: [{ role: 'user', content: 'hi' }] }, key)
  const newKey = async (fields: Record<string, unknown>) => ((await (await call(a, 'POST', '/key/generate', fields)).json()) as any).key as string

  beforeAll(async () => {
    const binary = await buildBinary()
    ;[database, redis, upstream] = await Promise.all([postgresEngine.createDatabase(), startPrivateRedis(), startFakeUpstream()])
    const config = `model_list:\n  - model_name: llama3\n    litellm_params:\n      model: openai/llama3\n      api_base: ${upstream.openaiBase}\n      api_key: upstream-key\n      input_cost_per_token: 0.0000001\n      output_cost_per_token: 0.0000005\n`
    const env = { DATABASE_URL: database.url, LITELLM_MASTER_KEY: MASTER, REDIS_URL: redis.url }
    const start = () => {
      const folder = emptyFolder()
      writeFileSync(join(folder, 'config.yaml'), config)
      return startBinary(binary, { cwd: folder, args: ['--config', 'config.yaml', '--port', '0'], env })
    }
    a = await start()
    b = await start()
  }, 60_000)
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await Promise.all([redis?.close(), upstream?.stop(), database?.drop()])
  })

  test('a key with rpm 4 gets exactly 4 successes across both instances', async () => {
    const key = await newKey({ rpm_limit: 4 })
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(i % 2 === 0 ? a : b, key)))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(4)
    expect(statuses.filter((s) => s === 429)).toHaveLength(6)
  })

  test('a key blocked through A is refused by B within a second', async () => {
    const key = await newKey({})
    expect((await chat(b, key)).status).toBe(200)
    expect((await call(a, 'POST', '/key/block', { key })).status).toBe(200)
    const blockedAt = performance.now()
    expect(await eventually(async () => (await chat(b, key)).status === 401, 1000)).toBe(true)
    console.log(`key blocked through A refused by B after ${(performance.now() - blockedAt).toFixed(0)} ms`)
  })

  test('a team budget spent through A is refused on B', async () => {
    // The fake upstream reports 10 prompt + 5 completion tokens: 10 × 1e-7 + 5 × 5e-7 = 3.5e-06 a request.
    const team = (await (await call(a, 'POST', '/team/new', { team_alias: 'shared-budget', max_budget: 0.000005, budget_duration: '1d' })).json()) as any
    const key = await newKey({ team_id: team.team_id })
    expect((await chat(a, key)).status).toBe(200)
    expect((await chat(a, key)).status).toBe(200)
    const refused = await chat(b, key)
    expect(refused.status).toBe(400)
    const cost = 10 * 1e-7 + 5 * 5e-7
    expect(((await refused.json()) as any).error).toEqual({
      message: `Budget has been exceeded! Current cost: ${pythonFloat(cost + cost)}, Max budget: 5e-06`,
      type: 'auth_error',
      param: null,
      code: 400,
    })
  })

  test('Redis stopped: both keep serving with local limits; restarted: shared limits resume', async () => {
    await redis.stop()
    const local = await newKey({ rpm_limit: 2 })
    const whileDown = await Promise.all([chat(a, local), chat(a, local), chat(a, local), chat(b, local), chat(b, local), chat(b, local)])
    // Each instance counts alone: 2 per instance, never a failure for lack of Redis.
    expect(whileDown.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 429, 429])
    await redis.start()
    const shared = await newKey({ rpm_limit: 2 })
    // Each instance notices Redis again on its own schedule; then the limit is shared once more.
    expect(
      await eventually(async () => {
        const probe = await newKey({ rpm_limit: 1 })
        const [first, second] = [await chat(a, probe), await chat(b, probe)]
        return first.status === 200 && second.status === 429
      }, 10_000),
    ).toBe(true)
    const statuses = (await Promise.all([chat(a, shared), chat(b, shared), chat(a, shared), chat(b, shared)])).map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(2)
  }, 30_000)
})
