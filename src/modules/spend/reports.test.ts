import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam } from '../../../test/fixtures'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { spendRow } from '../../../test/spend-rows'
import { ManualClock } from '../../lib/clock'

const day = (month: number, d: number) => new Date(Date.UTC(2026, month - 1, d, 10, 0, 0))

describeEachEngine('spend reports', (engine) => {
  let gateway: TestGateway
  let ka: { token: string; key: string }
  let kb: string
  let kc: string
  beforeAll(async () => {
    gateway = await startGateway(engine, { clock: new ManualClock(Date.UTC(2026, 0, 17, 12)), config: { litellm_settings: { max_budget: 100 } } })
    const { repos } = gateway.store
    await insertTeam(repos, { teamId: 'team-a', teamAlias: 'Alpha' })
    await insertTeam(repos, { teamId: 'team-b' })
    const a = await insertKey(repos, { teamId: 'team-a', userId: 'u1', keyAlias: 'alpha-key' })
    ka = { token: a.row.token, key: a.key }
    kb = (await insertKey(repos, { teamId: 'team-b', userId: 'u2' })).row.token
    kc = (await insertKey(repos, { userId: 'u3' })).row.token
    const rows = [
      spendRow({ apiKey: ka.token, teamId: 'team-a', userId: 'u1', startTime: day(1, 14), spend: 1, promptTokens: 10, completionTokens: 5, endUser: 'c1', requestTags: ['prod'] }),
      spendRow({ apiKey: ka.token, teamId: 'team-a', userId: 'u1', startTime: day(1, 14), spend: 0.5, promptTokens: 20, completionTokens: 10, model: 'gpt-4o-mini', modelGroup: 'mini', requestTags: ['prod', 'eval'] }),
      spendRow({ apiKey: kb, teamId: 'team-b', userId: 'u2', startTime: day(1, 14), spend: 2, promptTokens: 100, completionTokens: 50, endUser: 'c2' }),
      spendRow({ apiKey: kc, userId: 'u3', startTime: day(1, 15), spend: 4, promptTokens: 1, completionTokens: 1, endUser: 'c1' }),
      spendRow({ apiKey: ka.token, teamId: 'team-a', userId: 'u1', startTime: day(1, 15), spend: 0, promptTokens: 5, completionTokens: 0, status: 'failure' }),
      // A JWT principal's request: no key.
      spendRow({ apiKey: '', teamId: 'team-b', userId: 'u2', startTime: day(1, 16), spend: 8, promptTokens: 3, completionTokens: 4, model: 'claude-3-5-sonnet', modelGroup: 'claude', provider: 'anthropic' }),
      spendRow({ apiKey: ka.token, teamId: 'team-a', userId: 'u1', startTime: day(1, 1), spend: 16 }),
      // Older than the trailing 30 days.
      spendRow({ apiKey: ka.token, teamId: 'team-a', userId: 'u1', startTime: new Date(Date.UTC(2025, 11, 1)), spend: 32 }),
    ]
    for (const row of rows) gateway.context.spend.record(row)
    await gateway.context.spend.flush()
  })
  afterAll(() => gateway.close())

  const report = (query: string) => gateway.call('GET', `/global/spend/report?start_date=2026-01-14&end_date=2026-01-16&${query}`)

  test('/global/spend: spend over the trailing 30 days and the global budget', async () => {
    expect((await gateway.call('GET', '/global/spend')).body).toEqual({ spend: 1 + 0.5 + 2 + 4 + 8 + 16, max_budget: 100 })
  })

  test('the report grouped by team (the default): per day, per team (alias, else id, else Unassigned Team), with key and model detail', async () => {
    const response = await report('')
    expect(response.status).toBe(200)
    expect(response.body).toEqual([
      {
        group_by_day: '2026-01-14T00:00:00+00:00',
        teams: [
          {
            team_name: 'Alpha',
            total_spend: 1.5,
            metadata: [
              { model: 'gpt-4o', spend: 1, total_tokens: 15, api_key: ka.token },
              { model: 'gpt-4o-mini', spend: 0.5, total_tokens: 30, api_key: ka.token },
            ],
          },
          { team_name: 'team-b', total_spend: 2, metadata: [{ model: 'gpt-4o', spend: 2, total_tokens: 150, api_key: kb }] },
        ],
      },
      {
        group_by_day: '2026-01-15T00:00:00+00:00',
        teams: [
          { team_name: 'Unassigned Team', total_spend: 4, metadata: [{ model: 'gpt-4o', spend: 4, total_tokens: 2, api_key: kc }] },
          { team_name: 'Alpha', total_spend: 0, metadata: [{ model: 'gpt-4o', spend: 0, total_tokens: 5, api_key: ka.token }] },
        ],
      },
      {
        group_by_day: '2026-01-16T00:00:00+00:00',
        teams: [{ team_name: 'team-b', total_spend: 8, metadata: [{ model: 'claude-3-5-sonnet', spend: 8, total_tokens: 7, api_key: '' }] }],
      },
    ])
    const oneTeam = await report('group_by=team&team_id=team-b')
    expect(oneTeam.body.map((d: any) => d.teams.map((t: any) => t.team_name))).toEqual([['team-b'], ['team-b']])
  })

  test('the report grouped by customer, model and tag', async () => {
    const customers = await report('group_by=customer')
    expect(customers.body[0]).toEqual({
      group_by_day: '2026-01-14T00:00:00+00:00',
      customers: [
        { customer: null, total_spend: 0.5, metadata: [{ model: 'gpt-4o-mini', spend: 0.5, total_tokens: 30, api_key: ka.token }] },
        { customer: 'c1', total_spend: 1, metadata: [{ model: 'gpt-4o', spend: 1, total_tokens: 15, api_key: ka.token }] },
        { customer: 'c2', total_spend: 2, metadata: [{ model: 'gpt-4o', spend: 2, total_tokens: 150, api_key: kb }] },
      ],
    })
    expect((await report('group_by=customer&customer_id=c1')).body.map((d: any) => [d.group_by_day.slice(0, 10), d.customers.map((c: any) => c.total_spend)])).toEqual([
      ['2026-01-14', [1]],
      ['2026-01-15', [4]],
    ])
    expect((await report('group_by=model')).body).toEqual([
      { group_by_day: '2026-01-14T00:00:00+00:00', models: [{ model: 'gpt-4o', total_spend: 3, total_tokens: 165 }, { model: 'gpt-4o-mini', total_spend: 0.5, total_tokens: 30 }] },
      { group_by_day: '2026-01-15T00:00:00+00:00', models: [{ model: 'gpt-4o', total_spend: 4, total_tokens: 7 }] },
      { group_by_day: '2026-01-16T00:00:00+00:00', models: [{ model: 'claude-3-5-sonnet', total_spend: 8, total_tokens: 7 }] },
    ])
    expect((await report('group_by=tag')).body).toEqual([
      { group_by_day: '2026-01-14T00:00:00+00:00', tags: [{ tag: 'eval', total_spend: 0.5, total_tokens: 30 }, { tag: 'prod', total_spend: 1.5, total_tokens: 45 }] },
    ])
  })

  test('the per-key shape: every key, one key (plaintext or hash) or one user\'s keys, with model detail, costliest first', async () => {
    const byKey = await report('group_by=api_key')
    expect(byKey.body.map((k: any) => [k.api_key, k.total_cost])).toEqual([['', 8], [kc, 4], [kb, 2], [ka.token, 1.5]])
    const one = await report(`api_key=${ka.key}`)
    expect(one.body).toEqual([
      {
        api_key: ka.token,
        total_cost: 1.5,
        total_input_tokens: 35,
        total_output_tokens: 15,
        model_details: [
          { model: 'gpt-4o', total_cost: 1, total_input_tokens: 15, total_output_tokens: 5 },
          { model: 'gpt-4o-mini', total_cost: 0.5, total_input_tokens: 20, total_output_tokens: 10 },
        ],
      },
    ])
    expect((await report(`api_key=${ka.token}`)).body).toEqual(one.body)
    expect((await report('internal_user_id=u2')).body.map((k: any) => [k.api_key, k.total_cost])).toEqual([['', 8], [kb, 2]])
  })

  test('the report refuses missing dates, a bad range and an unknown group_by with a 400 naming the parameter', async () => {
    const missing = await gateway.call('GET', '/global/spend/report?group_by=team')
    expect(missing.body.error).toEqual({ message: 'Please provide start_date and end_date', type: 'bad_request_error', param: 'start_date', code: 400 })
    const unknown = await report('group_by=week')
    expect(unknown.body.error).toEqual({
      message: "Invalid group_by 'week': expected one of team, customer, api_key, model, tag",
      type: 'bad_request_error',
      param: 'group_by',
      code: 400,
    })
    const inverted = await gateway.call('GET', '/global/spend/report?start_date=2026-02-01&end_date=2026-01-01')
    expect(inverted.body.error).toMatchObject({ code: 400, param: 'start_date' })
    expect((await gateway.call('GET', '/global/spend/report?start_date=2026-1-1&end_date=2026-01-31')).body.error.param).toBe('start_date')
  })

  test('top keys, teams, models and end users of the last 30 days', async () => {
    const keys = await gateway.call('GET', '/global/spend/keys?limit=2')
    expect(keys.body).toEqual([
      { api_key: ka.token, total_spend: 17.5, key_alias: 'alpha-key', key_name: `sk-...${ka.key.slice(-4)}` },
      { api_key: kc, total_spend: 4, key_alias: null, key_name: expect.stringMatching(/^sk-\.\.\./) },
    ])
    expect((await gateway.call('GET', '/global/spend/keys')).body).toHaveLength(3)
    expect((await gateway.call('GET', '/global/spend/keys?limit=0')).status).toBe(422)

    const teams = await gateway.call('GET', '/global/spend/teams')
    expect(teams.body.daily_spend).toEqual([
      { date: '2026-01-01', Alpha: 16 },
      { date: '2026-01-14', Alpha: 1.5, 'team-b': 2 },
      { date: '2026-01-15', Unassigned: 4, Alpha: 0 },
      { date: '2026-01-16', 'team-b': 8 },
    ])
    expect(teams.body.total_spend_per_team).toEqual([
      { team_id: 'Alpha', total_spend: 17.5 },
      { team_id: 'team-b', total_spend: 10 },
      { team_id: 'Unassigned', total_spend: 4 },
    ])
    expect(teams.body.teams.sort()).toEqual(['Alpha', 'Unassigned', 'team-b'])

    expect((await gateway.call('GET', '/global/spend/models')).body).toEqual([
      { model: 'gpt-4o', total_spend: 23 },
      { model: 'claude-3-5-sonnet', total_spend: 8 },
      { model: 'gpt-4o-mini', total_spend: 0.5 },
    ])
    expect((await gateway.call('GET', '/global/spend/models?limit=1')).body).toHaveLength(1)

    expect((await gateway.call('POST', '/global/spend/end_users')).body).toEqual([
      { end_user: 'c1', total_count: 2, total_spend: 5 },
      { end_user: 'c2', total_count: 1, total_spend: 2 },
    ])
    const forKey = await gateway.call('POST', '/global/spend/end_users', { body: { api_key: kb, startTime: '2026-01-14', endTime: '2026-01-14T23:00:00Z' } })
    expect(forKey.body).toEqual([{ end_user: 'c2', total_count: 1, total_spend: 2 }])
    const bad = await gateway.call('POST', '/global/spend/end_users', { body: { startTime: 'soon' } })
    expect(bad.body.error).toMatchObject({ code: 400, param: 'startTime' })
  })

  test('/global/activity counts requests and tokens per day; /spend/tags sums spend per tag', async () => {
    const activity = await gateway.call('GET', '/global/activity?start_date=2026-01-14&end_date=2026-01-16')
    expect(activity.body).toEqual({
      daily_data: [
        { date: 'Jan 14', api_requests: 3, total_tokens: 195 },
        { date: 'Jan 15', api_requests: 2, total_tokens: 7 },
        { date: 'Jan 16', api_requests: 1, total_tokens: 7 },
      ],
      sum_api_requests: 6,
      sum_total_tokens: 209,
    })
    expect((await gateway.call('GET', '/global/activity')).body.error).toMatchObject({ code: 400, message: 'Please provide start_date and end_date' })
    expect((await gateway.call('GET', '/spend/tags')).body).toEqual([
      { individual_request_tag: 'prod', log_count: 2, total_spend: 1.5 },
      { individual_request_tag: 'eval', log_count: 1, total_spend: 0.5 },
    ])
    expect((await gateway.call('GET', '/spend/tags?start_date=2026-01-15&end_date=2026-01-16')).body).toEqual([])
  })

  test('daily activity: LiteLLM\'s paginated analytics per team, user, customer and tag, from the rollups', async () => {
    const team = await gateway.call('GET', '/team/daily/activity?start_date=2026-01-14&end_date=2026-01-16&team_ids=team-a')
    expect(team.status).toBe(200)
    expect(team.body.metadata).toMatchObject({ total_spend: 1.5, total_api_requests: 3, total_successful_requests: 2, total_failed_requests: 1, total_tokens: 50, page: 1, total_pages: 1, has_more: false })
    expect(team.body.results.map((r: any) => r.date)).toEqual(['2026-01-15', '2026-01-14'])
    const jan14 = team.body.results[1]
    expect(jan14.metrics).toEqual({ spend: 1.5, prompt_tokens: 30, completion_tokens: 15, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, total_tokens: 45, successful_requests: 2, failed_requests: 0, api_requests: 2 })
    expect(Object.keys(jan14.breakdown.models)).toEqual(['gpt-4o', 'gpt-4o-mini'])
    expect(Object.keys(jan14.breakdown.model_groups)).toEqual(['gpt-4o', 'mini'])
    expect(jan14.breakdown.providers.openai.metrics.spend).toBe(1.5)
    expect(jan14.breakdown.api_keys[ka.token]).toMatchObject({ metrics: { spend: 1.5 }, metadata: { key_alias: 'alpha-key', team_id: 'team-a' } })
    expect(jan14.breakdown.entities['team-a']).toMatchObject({ metrics: { api_requests: 2 }, metadata: { team_alias: 'Alpha' } })
    expect(jan14.breakdown.models['gpt-4o'].api_key_breakdown[ka.token].metrics.spend).toBe(1)

    const paged = await gateway.call('GET', '/team/daily/activity?start_date=2026-01-14&end_date=2026-01-16&team_ids=team-a,team-b&page=2&page_size=2')
    expect(paged.body.metadata).toMatchObject({ page: 2, total_pages: 3, has_more: true })

    const users = await gateway.call('GET', '/user/daily/activity?start_date=2026-01-14&end_date=2026-01-16&model=gpt-4o')
    expect(Object.keys(users.body.results.flatMap((r: any) => Object.keys(r.breakdown.entities)).reduce((set: any, id: string) => ({ ...set, [id]: 1 }), {})).sort()).toEqual(['u1', 'u2', 'u3'])
    const customer = await gateway.call('GET', '/customer/daily/activity?start_date=2026-01-14&end_date=2026-01-16&end_user_ids=c1')
    expect(customer.body.metadata.total_spend).toBe(5)
    const tag = await gateway.call('GET', `/tag/daily/activity?start_date=2026-01-01&end_date=2026-01-31&tags=eval&api_key=${ka.key}`)
    expect(tag.body.metadata).toMatchObject({ total_spend: 0.5, total_api_requests: 1 })
    expect((await gateway.call('GET', '/tag/daily/activity?tags=eval')).body.error).toMatchObject({ code: 400, message: 'Please provide start_date and end_date' })
  })
})
