import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { createRoleWorld, ORG, OTHER_TEAM, TEAM, type RoleWorld } from '../../../test/roles'
import type { SpendLogRow } from '../../db/ports'

const DATES = 'start_date=2026-01-15&end_date=2026-01-15'

describeEachEngine('spend a non-admin may read', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld
  const tokens: Record<string, string> = {}

  function row(requestId: string, key: string, owner: { userId: string; teamId: string | null; organizationId: string | null }): SpendLogRow {
    const at = new Date('2026-01-15T12:00:00.000Z')
    return {
      requestId, responseId: null, callType: 'acompletion', apiKey: tokens[key], spend: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2,
      startTime: at, endTime: at, completionStartTime: null, model: 'm', modelGroup: 'm', modelId: 'd', provider: 'openai',
      ...owner, endUser: null, requestTags: [], status: 'success', usageEstimated: false, metadata: {}, requesterIpAddress: null,
    }
  }

  beforeAll(async () => {
    gateway = await startGateway(engine)
    world = await createRoleWorld(gateway)
    tokens.personal = (await world.admin('POST', '/key/generate', { user_id: 'member' })).token
    tokens.team = (await world.admin('POST', '/key/generate', { user_id: 'team-admin', team_id: TEAM })).token
    tokens.outside = (await world.admin('POST', '/key/generate', { user_id: 'outsider', team_id: OTHER_TEAM })).token
    const { repos } = gateway.store
    await repos.spendLogs.insertMany([
      row('r-personal', 'personal', { userId: 'member', teamId: null, organizationId: null }),
      row('r-team', 'team', { userId: 'team-admin', teamId: TEAM, organizationId: ORG }),
      row('r-outside', 'outside', { userId: 'outsider', teamId: OTHER_TEAM, organizationId: 'org-2' }),
    ])
    const rollup = (key: string, entityType: string, entityId: string) => ({
      entityType, entityId, date: '2026-01-15', apiKey: tokens[key], modelGroup: 'm', model: 'm', provider: 'openai',
      promptTokens: 1, completionTokens: 1, spend: 1, apiRequests: 1, successfulRequests: 1, failedRequests: 0,
    })
    await repos.dailySpend.increment([
      rollup('personal', 'key', tokens.personal), rollup('team', 'key', tokens.team), rollup('outside', 'key', tokens.outside),
      rollup('team', 'team', TEAM), rollup('outside', 'team', OTHER_TEAM),
    ])
  })
  afterAll(() => gateway.close())

  const logIds = async (user: string | null, query = '') => {
    const response = await gateway.call('GET', `/spend/logs${query}`, { key: user ? world.keys[user] : undefined })
    expect(response.status).toBe(200)
    return response.body.map((r: any) => r.request_id).sort()
  }

  test('spend logs: own keys for members, the team for its admin, the organization for its admin, all for admins', async () => {
    expect(await logIds('member')).toEqual(['r-personal'])
    expect(await logIds('member', '?user_id=outsider')).toEqual([])
    expect(await logIds('team-admin')).toEqual(['r-team'])
    expect(await logIds('org-admin')).toEqual(['r-team'])
    expect(await logIds(null)).toEqual(['r-outside', 'r-personal', 'r-team'])
    const page = await gateway.call('GET', '/spend/logs/ui', { key: world.keys.outsider })
    expect(page.body.data.map((r: any) => r.request_id)).toEqual(['r-outside'])
  })

  test('the report and daily activity count only the keys the caller may read', async () => {
    const keysOf = async (user: string) =>
      (await gateway.call('GET', `/global/spend/report?${DATES}&group_by=api_key`, { key: world.keys[user] })).body.map((r: any) => r.api_key).sort()
    expect(await keysOf('member')).toEqual([tokens.personal])
    expect(await keysOf('team-admin')).toEqual([tokens.team])
    const teams = await gateway.call('GET', `/team/daily/activity?${DATES}`, { key: world.keys['team-admin'] })
    expect(Object.keys(teams.body.results[0].breakdown.entities)).toEqual([TEAM])
    const none = await gateway.call('GET', `/team/daily/activity?${DATES}`, { key: world.keys.member })
    expect(none.body.results).toEqual([])
    const all = await gateway.call('GET', `/team/daily/activity?${DATES}`)
    expect(Object.keys(all.body.results[0].breakdown.entities).sort()).toEqual([TEAM, OTHER_TEAM].sort())
  })
})
