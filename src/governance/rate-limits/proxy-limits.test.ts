/**
 * Rate limits on proxied requests, end to end in-process: the limiter as the proxy's admission step.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { chat, startProxyGateway, type ProxyGateway } from '../../../test/proxy-gateway'
import type { ManualClock } from '../../lib/clock'

describeEachEngine('rate limits on proxied requests', (engine) => {
  let proxy: ProxyGateway
  let clock: ManualClock
  const send = (key: string, body: unknown = chat('gpt-4o')) => proxy.gateway.call('POST', '/v1/chat/completions', { key, body })

  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
    clock = proxy.gateway.clock as ManualClock
  })
  afterAll(() => proxy.close())
  beforeEach(() => {
    proxy.upstream.reset()
    clock.advance(61_000)
  })

  test('a key with rpm 2: the third request in the window is refused with Retry-After and nothing reaches the upstream', async () => {
    const { key } = await insertKey(proxy.gateway.store.repos, { rpmLimit: 2 })
    const first = await send(key)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2')
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1')
    expect((await send(key)).status).toBe(200)
    const refused = await send(key)
    expect(refused.status).toBe(429)
    expect(refused.body.error.type).toBe('rate_limit_error')
    expect(refused.body.error.message).toStartWith('Rate limit exceeded for api_key: ')
    expect(refused.body.error.message).toEndWith('Limit type: rpm. Current limit: 2, Remaining: 0.')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(proxy.upstream.requests).toHaveLength(2)
    clock.advance(60_000)
    expect((await send(key)).status).toBe(200)
  })

  test('a team rpm is shared by the team keys', async () => {
    const team = await insertTeam(proxy.gateway.store.repos, { rpmLimit: 3 })
    const a = await insertKey(proxy.gateway.store.repos, { teamId: team.teamId })
    const b = await insertKey(proxy.gateway.store.repos, { teamId: team.teamId })
    expect((await send(a.key)).status).toBe(200)
    expect((await send(b.key)).status).toBe(200)
    expect((await send(a.key)).status).toBe(200)
    const refused = await send(b.key)
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toStartWith(`Rate limit exceeded for team: ${team.teamId}.`)
  })

  test('tpm is post-paid: requests pass until the window tokens reach the limit', async () => {
    // The fake upstream reports 10 prompt + 5 completion tokens per request.
    const { key } = await insertKey(proxy.gateway.store.repos, { tpmLimit: 30 })
    expect((await send(key)).status).toBe(200)
    expect((await send(key)).status).toBe(200)
    const refused = await send(key)
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toEndWith('Limit type: tpm. Current limit: 30, Remaining: 0.')
  })

  test('team member limits apply inside the team', async () => {
    const repos = proxy.gateway.store.repos
    const memberBudget = await repos.budgets.insert({ budgetId: crypto.randomUUID(), rpmLimit: 1 })
    const team = await insertTeam(repos)
    const user = await insertUser(repos)
    await repos.memberships.insert({ teamId: team.teamId, userId: user.userId, role: 'user', budgetId: memberBudget.budgetId })
    const { key } = await insertKey(repos, { teamId: team.teamId, userId: user.userId })
    expect((await send(key)).status).toBe(200)
    const refused = await send(key)
    expect(refused.body.error.message).toStartWith(`Rate limit exceeded for team_member: ${team.teamId}:${user.userId}.`)
  })

  test('max_parallel_requests holds a slot per request in flight and frees it when a streaming client disconnects', async () => {
    const { key } = await insertKey(proxy.gateway.store.repos, { maxParallelRequests: 1 })
    proxy.upstream.chunkDelayMs = 200
    const recorded = proxy.usage.records.length
    const streaming = await proxy.gateway.app.handle(
      new Request('http://localhost/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(chat('gpt-4o', { stream: true })),
      }),
    )
    const reader = streaming.body!.getReader()
    await reader.read()
    const refused = await send(key)
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toEndWith('Limit type: max_parallel_requests. Current limit: 1, Remaining: 0.')
    await reader.cancel()
    await proxy.usage.waitFor(recorded + 1)
    await Bun.sleep(20)
    proxy.upstream.chunkDelayMs = 0
    expect((await send(key)).status).toBe(200)
  })
})
