import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { membershipCacheId } from '../../cache/entity-caches'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'

const DAY = 86_400_000
const stamp = (ms: number) => formatTimestamp(new Date(ms))
const TEAM = '8d916b1c-510d-4894-a334-1c16a93344f5'

describeEachEngine('team members', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const membership = (userId: string) => gateway.store.repos.memberships.get({ userId, teamId: TEAM })

  beforeAll(async () => {
    gateway = await startGateway(engine, { config: { litellm_settings: { default_internal_user_params: { user_role: 'internal_user_viewer' } } } })
    clock = gateway.clock as ManualClock
    await gateway.call('POST', '/team/new', { body: { team_id: TEAM, team_alias: 'Seed Team', budget_duration: '30d' } })
    await gateway.store.repos.users.insert({ userId: 'existing', userEmail: 'existing@example.com', userRole: 'proxy_admin_viewer', models: [], metadata: {} })
  })
  afterAll(() => gateway.close())

  test('member_add with one member creates the user with the default role and answers with the team and the changes', async () => {
    const added = await gateway.call('POST', '/team/member_add', { body: { team_id: TEAM, member: { role: 'user', user_id: 'krrish@berri.ai' } } })
    expect(added.status).toBe(200)
    expect(added.body).toMatchObject({ team_id: TEAM, members_with_roles: [{ user_id: 'krrish@berri.ai', user_email: null, role: 'user' }] })
    expect(added.body.updated_users).toEqual([expect.objectContaining({ user_id: 'krrish@berri.ai', user_role: 'internal_user_viewer' })])
    expect(added.body.updated_team_memberships).toEqual([{ user_id: 'krrish@berri.ai', team_id: TEAM, budget_id: null, spend: 0, litellm_budget_table: null }])
    const audit = await gateway.store.repos.audit.list({ tableName: 'team_memberships', action: 'created' }, { offset: 0, limit: 10 })
    expect(audit.rows[0]).toMatchObject({ objectId: `${TEAM}:krrish@berri.ai`, route: '/team/member_add' })
  })

  test('member_add with several members, by email (case-insensitive) or id, with their own budget rows', async () => {
    const added = await gateway.call('POST', '/team/member_add', {
      body: {
        team_id: TEAM,
        member: [
          { role: 'admin', user_email: 'EXISTING@example.com' },
          { role: 'user', user_email: 'new@example.com' },
        ],
        max_budget_in_team: 2.5,
        budget_duration: '1w',
      },
    })
    expect(added.status).toBe(200)
    expect(added.body.updated_users.map((u: any) => u.user_id)[0]).toBe('existing')
    const created = added.body.updated_users[1]
    expect(created).toMatchObject({ user_email: 'new@example.com', user_role: 'internal_user_viewer' })
    expect(created.user_id).toMatch(/^[0-9a-f-]{36}$/)
    for (const m of added.body.updated_team_memberships) {
      expect(m.litellm_budget_table).toMatchObject({ max_budget: 2.5, budget_duration: '1w', budget_reset_at: stamp(clock.now() + 7 * DAY) })
    }
    expect(new Set(added.body.updated_team_memberships.map((m: any) => m.budget_id)).size).toBe(2)
    expect(added.body.admins).toEqual(['existing'])
    expect(await gateway.audit(`${TEAM}:existing`, 'created')).toEqual([expect.objectContaining({ route: '/team/member_add', changedBy: 'default_user_id' })])
    expect(await gateway.audit(created.user_id, 'created')).toEqual([expect.objectContaining({ tableName: 'users', route: '/team/member_add' })])
    const budgetRows = await gateway.store.repos.audit.list({ tableName: 'budgets', action: 'created' }, { offset: 0, limit: 10 })
    expect(budgetRows.rows.filter((row) => row.route === '/team/member_add').length).toBe(2)
  })

  test('member_add refusals', async () => {
    const already = await gateway.call('POST', '/team/member_add', { body: { team_id: TEAM, member: { role: 'admin', user_id: 'existing' } } })
    expect(already.body.error.type).toBe('team_member_already_in_team')
    expect(already.status).toBe(400)
    expect(already.body.error.message).toMatch(/^User=existing already in team\. Existing members=\[[^\]]*'existing'[^\]]*\]$/)
    expect(already.body.error.message).toContain("'krrish@berri.ai'")
    const auditBefore = await gateway.auditCount()
    const cases: [unknown, number, string][] = [
      [{ member: { role: 'user', user_id: 'x' } }, 400, 'No team id passed in'],
      [{ team_id: TEAM }, 400, 'No member/members passed in'],
      [{ team_id: TEAM, member: [] }, 400, 'No member/members passed in'],
      [{ team_id: 'nope', member: { role: 'user', user_id: 'x' } }, 404, 'Team not found for team_id=nope'],
      [{ team_id: TEAM, member: { role: 'user' } }, 400, 'Either user id or user email must be provided'],
      [{ team_id: TEAM, member: { role: 'user', user_id: 'y' }, max_budget_in_team: -1 }, 400, 'max_budget_in_team must be a non-negative finite number. Received: -1'],
      [{ team_id: TEAM, member: { role: 'user', user_id: 'y' }, budget_duration: '0d' }, 400, expect.stringContaining("Invalid budget_duration '0d'") as any],
    ]
    for (const [body, status, message] of cases) {
      const response = await gateway.call('POST', '/team/member_add', { body })
      expect({ body, status: response.status, message: response.body.error?.message }).toEqual({ body, status, message })
    }
    // A batch where the second member is refused adds nobody.
    const batch = await gateway.call('POST', '/team/member_add', {
      body: { team_id: TEAM, member: [{ role: 'user', user_id: 'fresh' }, { role: 'user', user_id: 'existing' }] },
    })
    expect(batch.status).toBe(400)
    expect(await membership('fresh')).toBeNull()
    expect(await gateway.store.repos.users.get('fresh')).toBeNull()
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('member_update: role, own budget and limits; a new duration restarts the member window; null removes the own cap', async () => {
    await gateway.store.repos.memberships.addSpend({ userId: 'krrish@berri.ai', teamId: TEAM }, 0.75)
    const updated = await gateway.call('POST', '/team/member_update', {
      body: { team_id: TEAM, user_id: 'krrish@berri.ai', role: 'admin', max_budget_in_team: 5, budget_duration: '1d', tpm_limit: 100, rpm_limit: 10 },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toEqual({
      team_id: TEAM,
      user_id: 'krrish@berri.ai',
      user_email: null,
      role: 'admin',
      max_budget_in_team: 5,
      budget_duration: '1d',
      budget_reset_at: stamp(clock.now() + DAY),
      tpm_limit: 100,
      rpm_limit: 10,
    })
    expect((await membership('krrish@berri.ai'))!.spend).toBe(0)
    await gateway.store.repos.memberships.addSpend({ userId: 'krrish@berri.ai', teamId: TEAM }, 0.25)
    const capRemoved = await gateway.call('POST', '/team/member_update', { body: { team_id: TEAM, user_email: 'nobody@x', max_budget_in_team: null } })
    expect(capRemoved.body.error).toMatchObject({ code: 400, message: 'User not found in team' })
    const cleared = await gateway.call('POST', '/team/member_update', { body: { team_id: TEAM, user_id: 'krrish@berri.ai', max_budget_in_team: null, tpm_limit: 0 } })
    expect(cleared.body).toMatchObject({ role: 'admin', max_budget_in_team: null, budget_duration: '1d', tpm_limit: 0, rpm_limit: 10 })
    expect((await membership('krrish@berri.ai'))!.spend).toBe(0.25)
    const budgetId = (await membership('krrish@berri.ai'))!.budgetId!
    const emptied = await gateway.call('POST', '/team/member_update', {
      body: { team_id: TEAM, user_id: 'krrish@berri.ai', budget_duration: null, tpm_limit: null, rpm_limit: null },
    })
    expect(emptied.body).toMatchObject({ max_budget_in_team: null, budget_duration: null, budget_reset_at: null })
    expect((await membership('krrish@berri.ai'))!.budgetId).toBeNull()
    expect(await gateway.store.repos.budgets.get(budgetId)).toBeNull()
    const byEmail = await gateway.call('POST', '/team/member_update', { body: { team_id: TEAM, user_email: 'NEW@example.com', role: 'admin' } })
    expect(byEmail.body).toMatchObject({ user_email: 'new@example.com', role: 'admin', max_budget_in_team: 2.5 })
    expect((await gateway.call('POST', '/team/member_update', { body: { team_id: TEAM, role: 'user' } })).body.error.message).toBe(
      'Either user_id or user_email needs to be passed in',
    )
    expect((await gateway.call('POST', '/team/member_update', { body: { team_id: 'nope', user_id: 'x' } })).status).toBe(404)
    const audit = await gateway.store.repos.audit.list({ objectId: `${TEAM}:krrish@berri.ai`, action: 'updated' }, { offset: 0, limit: 10 })
    expect(audit.total).toBe(3)
  })

  test('seed 000: /team/member/delete removes the member and their own budget row, keeps their keys and evicts the cache', async () => {
    const key = await gateway.call('POST', '/key/generate', { body: { team_id: TEAM, user_id: 'existing' } })
    const cacheId = membershipCacheId(TEAM, 'existing')
    expect(await gateway.context.caches.memberships.get(cacheId)).not.toBeNull()
    const budgetId = (await membership('existing'))!.budgetId!
    const deleted = await gateway.call('POST', '/team/member/delete', { body: { team_id: TEAM, user_id: 'existing' } })
    expect(deleted.status).toBe(200)
    expect(deleted.body.members_with_roles.map((m: any) => m.user_id)).not.toContain('existing')
    expect(await membership('existing')).toBeNull()
    expect(await gateway.store.repos.budgets.get(budgetId)).toBeNull()
    expect(gateway.context.caches.memberships.peek(cacheId)).toBeUndefined()
    expect(await gateway.store.repos.keys.get(key.body.token)).not.toBeNull()
    expect(await gateway.audit(`${TEAM}:existing`, 'deleted')).toEqual([expect.objectContaining({ route: '/team/member/delete' })])
    expect(await gateway.audit(budgetId, 'deleted')).toEqual([expect.objectContaining({ tableName: 'budgets', route: '/team/member/delete' })])
    const byEmail = await gateway.call('POST', '/team/member_delete', { body: { team_id: TEAM, user_email: 'new@example.com' } })
    expect(byEmail.body.members_with_roles.map((m: any) => m.user_id)).toEqual(['krrish@berri.ai'])
  })

  test('member_delete refusals', async () => {
    const auditBefore = await gateway.auditCount()
    const cases: [unknown, string][] = [
      [{ team_id: TEAM }, 'Either user_id or user_email needs to be passed in'],
      [{ team_id: 'nope', user_id: 'x' }, 'Team id=nope does not exist in db'],
      [{ team_id: TEAM, user_id: 'existing' }, 'User not found in team'],
    ]
    for (const [body, message] of cases) {
      const response = await gateway.call('POST', '/team/member_delete', { body })
      expect({ status: response.status, message: response.body.error.message }).toEqual({ status: 400, message })
    }
    expect((await gateway.call('POST', '/team/member/delete', { body: { user_id: 'x' } })).status).toBe(422)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })
})
