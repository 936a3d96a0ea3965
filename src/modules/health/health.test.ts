/**
 * GET /health probes each deployment by its mode and is never charged; background checks serve cached
 * results; readiness reports the database, Redis and the spend backlog without secrets or addresses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { sqliteEngine } from '../../../test/engines'
import { startFakeUpstream, type FakeUpstream } from '../../../test/fake-upstream'
import { insertKey, insertUser } from '../../../test/fixtures'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { samplesOf, scrape } from '../../../test/metrics-scrape'
import { UPSTREAM_KEY } from '../../../test/proxy-gateway'
import { eventually, redisServerAvailable, startPrivateRedis } from '../../../test/redis-server'

/** An upstream that fails on purpose: `/500/v1/…` answers 500 (echoing the credential), `/401/v1/…` 401, `/hang/v1/…` never. */
function startBrokenUpstream() {
  const hits: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      hits.push(path)
      if (path.startsWith('/401/')) return Response.json({ error: { message: 'bad key', type: 'invalid_request_error' } }, { status: 401 })
      if (path.startsWith('/hang/')) return new Promise<Response>(() => {})
      const echoed = request.headers.get('authorization')
      return Response.json({ error: { message: `upstream exploded (${echoed})`, type: 'server_error' } }, { status: 500 })
    },
  })
  return { base: (kind: string) => `http://127.0.0.1:${server.port}/${kind}/v1`, hits, stop: () => server.stop(true) }
}

type Broken = ReturnType<typeof startBrokenUpstream>

function healthConfig(good: FakeUpstream, broken: Broken, general: Record<string, unknown> = {}) {
  const at = (apiBase: string, model: string, info: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    model_name: String(info.id),
    litellm_params: { model, api_base: apiBase, api_key: UPSTREAM_KEY, input_cost_per_token: 1e-6, output_cost_per_token: 1e-6, ...extra },
    model_info: info,
  })
  return {
    model_list: [
      at(good.openaiBase, 'openai/gpt-4o', { id: 'chat-ok' }),
      at(good.openaiBase, 'openai/text-embedding-3-small', { id: 'embed-ok', mode: 'embedding' }),
      at(good.openaiBase, 'openai/gpt-3.5-turbo-instruct', { id: 'completion-ok', mode: 'completion' }),
      at(broken.base('500'), 'openai/gpt-4o', { id: 'broken' }),
      at(broken.base('401'), 'openai/gpt-4o', { id: 'locked' }),
      // The deployment's own request timeout is long; the health check's is not.
      at(broken.base('hang'), 'openai/gpt-4o', { id: 'slow', health_check_timeout: 0.2 }, { timeout: 600 }),
      { model_name: 'openai/*', litellm_params: { model: 'openai/*', api_base: good.openaiBase, api_key: UPSTREAM_KEY } },
    ],
    general_settings: general,
  }
}

/** A gateway whose deployments are served by a good fake upstream and a broken one. */
async function startHealthGateway(general: Record<string, unknown> = {}) {
  const good = await startFakeUpstream()
  const broken = startBrokenUpstream()
  const gateway = await startGateway(sqliteEngine, { config: healthConfig(good, broken, general) })
  return {
    good,
    broken,
    gateway,
    async close() {
      await gateway.close()
      await good.stop()
      await broken.stop()
    },
  }
}

const ids = (endpoints: Array<{ model_id: string }>) => endpoints.map((endpoint) => endpoint.model_id).sort()

describe('GET /health', () => {
  let setup: Awaited<ReturnType<typeof startHealthGateway>>
  let good: FakeUpstream
  let broken: Broken
  let gateway: TestGateway
  beforeAll(async () => {
    setup = await startHealthGateway()
    ;({ good, broken, gateway } = setup)
  })
  afterAll(() => setup.close())
  beforeEach(() => {
    good.reset()
    broken.hits.length = 0
  })

  test('probes every deployment by its mode: healthy ones listed, failing ones with their error, never the api key', async () => {
    const started = performance.now()
    const response = await gateway.call('GET', '/health')
    expect(response.status).toBe(200)
    expect(performance.now() - started).toBeLessThan(5000)
    expect(response.body.healthy_count).toBe(3)
    expect(response.body.unhealthy_count).toBe(3)
    expect(ids(response.body.healthy_endpoints)).toEqual(['chat-ok', 'completion-ok', 'embed-ok'])
    expect(response.body.healthy_endpoints).toContainEqual({ model: 'openai/gpt-4o', model_id: 'chat-ok', api_base: good.openaiBase })
    const unhealthy = Object.fromEntries(response.body.unhealthy_endpoints.map((endpoint: { model_id: string }) => [endpoint.model_id, endpoint]))
    expect(Object.keys(unhealthy).sort()).toEqual(['broken', 'locked', 'slow'])
    expect(unhealthy.broken).toMatchObject({ model: 'openai/gpt-4o', api_base: broken.base('500') })
    expect(unhealthy.broken.error).toContain('upstream exploded')
    expect(unhealthy.locked.error).toContain("refused the gateway's credentials")
    expect(unhealthy.slow.error).toBe('Request timed out after 0.2 seconds (model=slow)')
    expect(response.text).not.toContain(UPSTREAM_KEY)
    // An upstream that echoes the credential back has it scrubbed from the error.
    expect(unhealthy.broken.error).toBe('upstream exploded (Bearer ****)')
    for (const endpoint of [...response.body.healthy_endpoints, ...response.body.unhealthy_endpoints]) expect(endpoint).not.toHaveProperty('api_key')

    // chat: a one-token completion; completion: a one-token text completion; embedding: one input. The wildcard
    // deployment names no model and is not probed.
    const byPath = Object.fromEntries(good.requests.map((request) => [request.path, request.body]))
    expect(good.requests).toHaveLength(3)
    expect(byPath['/v1/chat/completions']).toMatchObject({ model: 'gpt-4o', max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] })
    expect(byPath['/v1/completions']).toMatchObject({ model: 'gpt-3.5-turbo-instruct', max_tokens: 1, prompt: 'ping' })
    expect(byPath['/v1/embeddings']).toMatchObject({ model: 'text-embedding-3-small', input: 'ping' })
  })

  test('probes are never charged or metered: no spend, no usage, no request metrics', async () => {
    expect((await gateway.call('GET', '/health')).status).toBe(200)
    expect(gateway.context.spend.backlog().events).toBe(0)
    await gateway.context.spend.flush()
    expect((await gateway.store.repos.spendLogs.list({}, { offset: 0, limit: 10 })).total).toBe(0)
    const text = await scrape(gateway)
    for (const name of ['litellm_proxy_total_requests_metric_total', 'litellm_deployment_total_requests_total', 'litellm_spend_metric_total']) {
      expect(samplesOf(text, name)).toEqual([])
    }
  })

  test('?model= probes one model group only', async () => {
    const response = await gateway.call('GET', '/health?model=broken')
    expect(response.body).toMatchObject({ healthy_endpoints: [], healthy_count: 0, unhealthy_count: 1 })
    expect(ids(response.body.unhealthy_endpoints)).toEqual(['broken'])
    expect(good.requests).toHaveLength(0)
    expect(broken.hits).toEqual(['/500/v1/chat/completions'])
  })

  test('is for proxy_admin and proxy_admin_viewer only', async () => {
    const { repos } = gateway.store
    const viewer = await insertUser(repos, { userRole: 'proxy_admin_viewer' })
    const member = await insertUser(repos, { userRole: 'internal_user' })
    expect((await gateway.call('GET', '/health?model=chat-ok', { key: (await insertKey(repos, { userId: viewer.userId })).key })).status).toBe(200)
    const refused = await gateway.call('GET', '/health', { key: (await insertKey(repos, { userId: member.userId })).key })
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toBe('Admin-only endpoint. Not allowed to access this.')
    expect((await gateway.call('GET', '/health', { key: null })).status).toBe(401)
  })
})

describe('GET /health with health_check_details: false and background checks', () => {
  test('results come from the last background round, without api_base or error', async () => {
    const setup = await startHealthGateway({ background_health_checks: true, health_check_interval: 300, health_check_details: false })
    const { good, gateway } = setup
    try {
      await gateway.context.lifecycle.start()
      const first = await gateway.call('GET', '/health')
      expect(first.body.healthy_count).toBe(3)
      expect(first.body.unhealthy_endpoints).toContainEqual({ model: 'openai/gpt-4o', model_id: 'broken' })
      for (const endpoint of [...first.body.healthy_endpoints, ...first.body.unhealthy_endpoints]) expect(Object.keys(endpoint).sort()).toEqual(['model', 'model_id'])
      const probes = good.requests.length
      expect(probes).toBe(3)

      // The upstream breaks: calls keep reading the cached round until the next one runs.
      good.defaultBehavior = { kind: 'error', status: 500 }
      expect((await gateway.call('GET', '/health')).body.healthy_count).toBe(3)
      expect(good.requests).toHaveLength(probes)
      await gateway.context.observability.health.refresh()
      const after = await gateway.call('GET', '/health')
      expect(after.body).toMatchObject({ healthy_count: 0, unhealthy_count: 6 })
      // A background round logs what failed, by deployment (never its key).
      const warnings = gateway.log.lines.filter((line) => line.message === 'deployment health check failed')
      expect(warnings.map((line) => line.model_id)).toContain('chat-ok')
      expect(JSON.stringify(gateway.log.lines)).not.toContain(UPSTREAM_KEY)
    } finally {
      await setup.close()
    }
  })
})

describe('GET /health/readiness', () => {
  test('without Redis: cache and redis are null', async () => {
    const gateway = await startGateway(sqliteEngine)
    try {
      const ready = await gateway.call('GET', '/health/readiness', { key: null })
      expect(ready.status).toBe(200)
      expect(ready.body).toMatchObject({ status: 'connected', db: 'connected', cache: null, redis: null, success_callbacks: [] })
    } finally {
      await gateway.close()
    }
  })

  test.skipIf(!redisServerAvailable)('with Redis: whether it answers, without its address; the gateway stays ready when it does not', async () => {
    const redis = await startPrivateRedis()
    const gateway = await startGateway(sqliteEngine, { env: { REDIS_URL: redis.url } })
    try {
      const ready = await gateway.call('GET', '/health/readiness', { key: null })
      expect(ready.body).toMatchObject({ status: 'connected', db: 'connected', cache: 'redis', redis: 'connected' })
      expect(ready.text).not.toContain(String(redis.port))
      await redis.stop()
      expect(await eventually(async () => (await gateway.call('GET', '/health/readiness', { key: null })).body.redis === 'Not connected')).toBe(true)
      const down = await gateway.call('GET', '/health/readiness', { key: null })
      expect(down.status).toBe(200)
      expect(down.body).toMatchObject({ status: 'connected', cache: 'redis', redis: 'Not connected' })
    } finally {
      await gateway.close()
      await redis.close()
    }
  })
})
