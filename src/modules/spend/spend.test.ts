import { afterAll, beforeAll, expect, test } from 'bun:test'
import { estimateChatPromptTokens } from '../../usage/estimate'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { spendRow } from '../../../test/spend-rows'
import type { SpendLogRow } from '../../db/ports'

const day = (d: number, hour = 12) => new Date(Date.UTC(2026, 0, d, hour, 0, 0))

describeEachEngine('spend logs and spend lists', (engine) => {
  let gateway: TestGateway
  let key: { token: string; plaintext: string }
  let other: string
  const rows: SpendLogRow[] = []
  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: { model_list: [{ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } }, { model_name: 'cheap', litellm_params: { model: 'openai/llama3', input_cost_per_token: 1e-7, output_cost_per_token: 2e-7 } }] },
    })
    const { repos } = gateway.store
    await insertTeam(repos, { teamId: 'team-a', teamAlias: 'Alpha' })
    await insertUser(repos, { userId: 'u1' })
    const inserted = await insertKey(repos, { teamId: 'team-a', userId: 'u1' })
    key = { token: inserted.row.token, plaintext: inserted.key }
    other = (await insertKey(repos, {})).row.token
    rows.push(
      spendRow({ apiKey: key.token, teamId: 'team-a', userId: 'u1', spend: 0.5, startTime: day(14), model: 'gpt-4o' }),
      spendRow({ apiKey: key.token, teamId: 'team-a', userId: 'u1', spend: 0.25, startTime: day(16), model: 'gpt-4o-mini', responseId: 'chatcmpl-known' }),
      spendRow({ apiKey: other, spend: 1, startTime: day(16, 13), model: 'gpt-4o', endUser: 'cust-1', requestTags: ['prod'], metadata: { user_api_key_alias: 'other', spend_logs_metadata: { job: 7 } } }),
    )
    for (const row of rows) gateway.context.spend.record(row)
    await gateway.context.spend.flush()
  })
  afterAll(() => gateway.close())

  test('/spend/logs without dates: raw rows for the filter, newest first, in LiteLLM field names', async () => {
    const all = await gateway.call('GET', '/spend/logs')
    expect(all.status).toBe(200)
    expect(all.body.map((row: any) => row.request_id)).toEqual([rows[2].requestId, rows[1].requestId, rows[0].requestId])
    expect(all.body[0]).toMatchObject({
      request_id: rows[2].requestId,
      call_type: 'acompletion',
      api_key: other,
      spend: 1,
      total_tokens: 30,
      startTime: '2026-01-16T13:00:00.000000Z',
      model: 'gpt-4o',
      model_group: 'gpt-4o',
      custom_llm_provider: 'openai',
      user: null,
      end_user: 'cust-1',
      request_tags: ['prod'],
      status: 'success',
      cache_hit: 'False',
      metadata: { user_api_key: other, user_api_key_alias: 'other', spend_logs_metadata: { job: 7 }, usage_estimated: false, error_information: null },
    })
    // A key is accepted as plaintext (hashed on arrival) or as its hash.
    for (const apiKey of [key.plaintext, key.token]) {
      const byKey = await gateway.call('GET', `/spend/logs?api_key=${apiKey}`)
      expect(byKey.body.map((row: any) => row.request_id)).toEqual([rows[1].requestId, rows[0].requestId])
    }
    expect((await gateway.call('GET', '/spend/logs?user_id=u1')).body).toHaveLength(2)
    // A value with a comma is one value, not a list.
    expect((await gateway.call('GET', '/spend/logs?user_id=u1,u2')).body).toEqual([])
    expect((await gateway.call('GET', '/spend/logs?team_id=team-a')).body).toHaveLength(2)
    expect((await gateway.call('GET', `/spend/logs?request_id=${rows[0].requestId}`)).body[0].request_id).toBe(rows[0].requestId)
    expect((await gateway.call('GET', '/spend/logs?request_id=chatcmpl-known')).body[0].request_id).toBe(rows[1].requestId)
  })

  test('/spend/logs with dates summarizes per day, zero-filled; summarize=false returns the rows in the range', async () => {
    const summary = await gateway.call('GET', '/spend/logs?start_date=2026-01-13&end_date=2026-01-17')
    expect(summary.status).toBe(200)
    expect(summary.body).toEqual([
      { startTime: '2026-01-13', spend: 0, users: {}, models: {} },
      { startTime: '2026-01-14', spend: 0.5, users: { u1: 0.5 }, models: { 'gpt-4o': 0.5 }, [key.token]: 0.5 },
      { startTime: '2026-01-15', spend: 0, users: {}, models: {} },
      { startTime: '2026-01-16', spend: 1.25, users: { u1: 0.25, null: 1 }, models: { 'gpt-4o-mini': 0.25, 'gpt-4o': 1 }, [key.token]: 0.25, [other]: 1 },
      { startTime: '2026-01-17', spend: 0, users: {}, models: {} },
    ])
    const filtered = await gateway.call('GET', `/spend/logs?start_date=2026-01-16&end_date=2026-01-16&api_key=${key.plaintext}`)
    expect(filtered.body).toEqual([{ startTime: '2026-01-16', spend: 0.25, users: { u1: 0.25 }, models: { 'gpt-4o-mini': 0.25 }, [key.token]: 0.25 }])
    const raw = await gateway.call('GET', '/spend/logs?start_date=2026-01-16&end_date=2026-01-16&summarize=false')
    expect(raw.body.map((row: any) => row.request_id)).toEqual([rows[2].requestId, rows[1].requestId])
  })

  test('bad dates are a 400 naming the parameter', async () => {
    const inverted = await gateway.call('GET', '/spend/logs?start_date=2026-01-16&end_date=2026-01-14')
    expect(inverted.status).toBe(400)
    expect(inverted.body.error).toEqual({ message: 'Invalid date range: start_date 2026-01-16 is after end_date 2026-01-14', type: 'bad_request_error', param: 'start_date', code: 400 })
    for (const [query, param] of [
      ['start_date=2026-02-30&end_date=2026-03-01', 'start_date'],
      ['start_date=2026-01-01&end_date=yesterday', 'end_date'],
      ['start_date=2026-01-01', 'end_date'],
    ]) {
      const bad = await gateway.call('GET', `/spend/logs?${query}`)
      expect(bad.status).toBe(400)
      expect(bad.body.error.param).toBe(param)
    }
    const malformed = await gateway.call('GET', '/spend/logs/ui?start_date=16/01/2026')
    expect(malformed.body.error).toMatchObject({ code: 400, param: 'start_date' })
    expect((await gateway.call('GET', '/spend/logs?summarize=maybe&start_date=2026-01-01&end_date=2026-01-02')).status).toBe(422)
  })

  test('/spend/logs/ui pages with filters', async () => {
    const first = await gateway.call('GET', '/spend/logs/ui?page=1&page_size=2')
    expect(first.body).toMatchObject({ total: 3, page: 1, page_size: 2, total_pages: 2 })
    expect(first.body.data.map((row: any) => row.request_id)).toEqual([rows[2].requestId, rows[1].requestId])
    const second = await gateway.call('GET', '/spend/logs/ui?page=2&page_size=2')
    expect(second.body.data.map((row: any) => row.request_id)).toEqual([rows[0].requestId])
    const narrow = await gateway.call('GET', '/spend/logs/ui?start_date=2026-01-16 00:00:00&end_date=2026-01-16 12:30:00&min_spend=0.1&model=gpt-4o-mini')
    expect(narrow.body.data.map((row: any) => row.request_id)).toEqual([rows[1].requestId])
    expect((await gateway.call('GET', '/spend/logs/ui?end_user=cust-1&status_filter=success')).body.total).toBe(1)
    expect((await gateway.call('GET', '/spend/logs/ui?page_size=101')).status).toBe(422)
  })

  test('/spend/keys and /spend/users list stored spend plus this instance\'s unflushed spend', async () => {
    gateway.context.spend.record(spendRow({ apiKey: key.token, userId: 'u1', spend: 2 }))
    const keys = await gateway.call('GET', '/spend/keys')
    expect(keys.body.map((k: any) => [k.token, k.spend])).toEqual([
      [key.token, 0.75 + 2],
      [other, 1],
    ])
    expect(keys.body[0]).not.toHaveProperty('key')
    const users = await gateway.call('GET', '/spend/users?user_id=u1')
    expect(users.body).toHaveLength(1)
    expect(users.body[0]).toMatchObject({ user_id: 'u1', spend: 0.75 + 2 })
    expect((await gateway.call('GET', '/spend/users?user_id=nobody')).body).toEqual([])
    await gateway.context.spend.flush()
    expect((await gateway.call('GET', '/spend/users')).body.find((u: any) => u.user_id === 'u1').spend).toBe(0.75 + 2)
  })

  test('/spend/calculate prices a call before (estimated prompt) or after it (its usage), and refuses unpriced models', async () => {
    const after = await gateway.call('POST', '/spend/calculate', {
      body: { completion_response: { id: 'x', model: 'gpt-4o', usage: { prompt_tokens: 1000, completion_tokens: 100, prompt_tokens_details: { cached_tokens: 400 } } } },
    })
    expect(after.body).toEqual({ cost: 600 * 2.5e-6 + 400 * 1.25e-6 + 100 * 1e-5 })
    const configured = await gateway.call('POST', '/spend/calculate', { body: { completion_response: { model: 'llama3', usage: { prompt_tokens: 10, completion_tokens: 10 } } } })
    expect(configured.body.cost).toBe(10 * 1e-7 + 10 * 2e-7)
    const messages = [{ role: 'user', content: 'x'.repeat(40) }]
    const before = await gateway.call('POST', '/spend/calculate', { body: { model: 'cheap', messages } })
    // The proxy's own estimate of a prompt: 3 for the reply + 3 per message + the text's tokens.
    expect(estimateChatPromptTokens(messages)).toBe(3 + 3 + 7)
    expect(before.body.cost).toBe(estimateChatPromptTokens(messages) * 1e-7)
    const unpriced = await gateway.call('POST', '/spend/calculate', { body: { model: 'mystery', messages: [] } })
    expect(unpriced.body.error).toMatchObject({ code: 400, message: 'Model mystery has no price configured (input_cost_per_token/output_cost_per_token)' })
    const neither = await gateway.call('POST', '/spend/calculate', { body: {} })
    expect(neither.body.error).toMatchObject({ code: 400, message: "Bad Request - Either 'model' or 'completion_response' must be provided" })
    expect((await gateway.call('POST', '/spend/calculate', { body: { model: 'cheap' } })).body.error.message).toBe(
      "Bad Request - messages must be provided if 'model' is provided",
    )
  })

  test('/health/readiness shows the spend backlog', async () => {
    gateway.context.spend.record(spendRow({ spend: 0.1 }))
    ;(gateway.clock as any).advance(3_000)
    const ready = await gateway.call('GET', '/health/readiness', { key: null })
    expect(ready.body).toMatchObject({ status: 'connected', db: 'connected', spend_spool: { events: 1, oldest_seconds: 3 } })
    await gateway.context.spend.flush()
    expect((await gateway.call('GET', '/health/readiness', { key: null })).body.spend_spool).toEqual({ events: 0, oldest_seconds: 0 })
  })

  test('/global/spend/reset zeroes every key and team, flushing first; only the master key may call it', async () => {
    const { repos } = gateway.store
    const viewer = await insertUser(repos, { userRole: 'proxy_admin' })
    const adminKey = await insertKey(repos, { userId: viewer.userId })
    const refused = await gateway.call('POST', '/global/spend/reset', { key: adminKey.key })
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toBe('Tried to access route=/global/spend/reset, which is only for MASTER KEY')
    await repos.teams.addSpend('team-a', 5)
    gateway.context.spend.record(spendRow({ apiKey: key.token, teamId: 'team-a', spend: 3 }))
    const reset = await gateway.call('POST', '/global/spend/reset')
    expect(reset.body).toEqual({ message: 'Spend for all API Keys and Teams reset successfully', status: 'success' })
    expect((await repos.keys.get(key.token))!).toMatchObject({ spend: 0, modelSpend: {} })
    expect((await repos.teams.get('team-a'))!.spend).toBe(0)
    expect((await repos.users.get('u1'))!.spend).toBeGreaterThan(0)
    expect((await repos.audit.list({ tableName: 'keys', objectId: '*' }, { offset: 0, limit: 1 })).rows[0]).toMatchObject({ action: 'updated', route: '/global/spend/reset' })
    // Spend logs and rollups stay.
    expect((await gateway.call('GET', '/spend/logs')).body.length).toBeGreaterThan(3)
  })

  test('global spend routes need an admin role; a non-admin key is refused them', async () => {
    const { repos } = gateway.store
    const user = await insertUser(repos, { userRole: 'internal_user' })
    const userKey = await insertKey(repos, { userId: user.userId })
    expect((await gateway.call('GET', '/spend/logs', { key: null })).status).toBe(401)
    const refused = await gateway.call('GET', '/global/spend/keys', { key: userKey.key })
    expect(refused.body.error).toMatchObject({ code: 403, message: 'Admin-only endpoint. Not allowed to access this.' })
    const priced = await gateway.call('POST', '/spend/calculate', { key: userKey.key, body: { model: 'cheap', messages: [] } })
    expect(priced.status).toBe(200)
  })
})
