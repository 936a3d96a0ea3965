import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'

const DAY = 86_400_000
const stamp = (ms: number) => formatTimestamp(new Date(ms))

describeEachEngine('teams', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const audit = (objectId: string, action?: string) =>
    gateway.store.repos.audit.list({ objectId, action }, { offset: 0, limit: 50 }).then((page) => page.rows)

  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: {
        model_list: [
          { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } },
          { model_name: 'llama3', litellm_params: { model: 'openai/llama3' } },
        ],
        litellm_settings: { default_internal_user_params: { available_teams: ['open-team', 'missing-team'] } },
      },
    })
    clock = gateway.clock as ManualClock
    await gateway.store.repos.budgets.insert({ budgetId: 'org-budget' })
    await gateway.store.repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: 'org-budget', models: [], metadata: {} })
  })
  afterAll(() => gateway.close())

  test('seed 003: a new team with max_budget and budget_duration echoes them and sets budget_reset_at = now + duration', async () => {
    const created = await gateway.call('POST', '/team/new', { body: { team_alias: 'QA Prod Bot', max_budget: 0.000000001, budget_duration: '1d' } })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ team_alias: 'QA Prod Bot', max_budget: 1e-9, budget_duration: '1d', spend: 0, blocked: false, models: [] })
    expect(created.body.team_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.body.budget_reset_at).toBe(stamp(clock.now() + DAY))
    expect(created.body.team_member_permissions).toEqual(['/key/info', '/key/health'])
    const [row] = await audit(created.body.team_id)
    expect(row).toMatchObject({ action: 'created', tableName: 'teams', changedBy: 'default_user_id', route: '/team/new' })
    expect(row.updatedValues).toMatchObject({ teamAlias: 'QA Prod Bot', maxBudget: 1e-9 })
  })

  test('every field of seed 000 and the contract is stored and rendered', async () => {
    const created = await gateway.call('POST', '/team/new', {
      body: {
        team_id: 'core-infra',
        team_alias: 'Core Infra',
        organization_id: 'org-1',
        metadata: { team: 'core-infra', app: 'app2' },
        tpm_limit: 1000,
        rpm_limit: 10,
        max_budget: 10,
        soft_budget: 8,
        max_parallel_requests: 4,
        models: ['gpt-4o', 'all-proxy-models'],
        blocked: false,
        tags: ['prod'],
        model_aliases: { fast: 'llama3' },
        guardrails: ['pii-mask'],
        members_with_roles: [{ role: 'admin', user_id: 'alice' }, { role: 'user', user_email: 'Bob@Example.com' }],
        members: ['carol'],
        team_member_budget: 2,
        team_member_budget_duration: '1w',
        team_member_tpm_limit: 100,
        team_member_rpm_limit: 5,
        team_member_permissions: ['/key/info', '/key/generate'],
      },
    })
    expect(created.status).toBe(200)
    const team = created.body
    expect(team).toMatchObject({
      team_id: 'core-infra',
      organization_id: 'org-1',
      metadata: { team: 'core-infra', app: 'app2', tags: ['prod'], guardrails: ['pii-mask'] },
      tpm_limit: 1000,
      rpm_limit: 10,
      soft_budget: 8,
      max_parallel_requests: 4,
      budget_duration: null,
      budget_reset_at: null,
      litellm_model_table: { model_aliases: { fast: 'llama3' } },
      team_member_permissions: ['/key/info', '/key/generate'],
      team_member_budget_table: { max_budget: 2, budget_duration: '1w', tpm_limit: 100, rpm_limit: 5, budget_reset_at: stamp(clock.now() + 7 * DAY) },
    })
    const bob = team.members_with_roles.find((m: any) => m.user_email === 'Bob@Example.com')
    expect(bob.user_id).toMatch(/^[0-9a-f-]{36}$/)
    const byId = (a: { user_id: string }, b: { user_id: string }) => (a.user_id < b.user_id ? -1 : 1)
    expect([...team.members_with_roles].sort(byId)).toEqual(
      [
        { user_id: 'alice', user_email: null, role: 'admin' },
        { user_id: bob.user_id, user_email: 'Bob@Example.com', role: 'user' },
        { user_id: 'carol', user_email: null, role: 'user' },
      ].sort(byId),
    )
    expect(team.admins).toEqual(['alice'])
    expect(team.members.sort()).toEqual([bob.user_id, 'carol'].sort())
    expect((await gateway.store.repos.users.get('alice'))!.userRole).toBe('internal_user')
    expect(gateway.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', route: '/team/new', fields: ['guardrails'] }))
    expect((await audit('core-infra:alice'))[0]).toMatchObject({ action: 'created', tableName: 'team_memberships' })
    expect((await audit('alice'))[0]).toMatchObject({ action: 'created', tableName: 'users' })
  })

  test('team/info renders memberships with their budget rows, keys without hashes, and expands all-proxy-models', async () => {
    await gateway.call('POST', '/team/member_update', { body: { team_id: 'core-infra', user_id: 'alice', max_budget_in_team: 1 } })
    const key = await gateway.call('POST', '/key/generate', { body: { team_id: 'core-infra', key_alias: 'infra-key' } })
    const info = await gateway.call('GET', '/team/info?team_id=core-infra')
    expect(info.status).toBe(200)
    expect(info.body.team_id).toBe('core-infra')
    expect(info.body.team_info.models).toEqual(['gpt-4o', 'llama3'])
    expect(info.body.keys).toHaveLength(1)
    expect(info.body.keys[0]).toMatchObject({ key_alias: 'infra-key', key_name: key.body.key_name })
    expect(info.body.keys[0].token).toBeUndefined()
    expect(info.text).not.toContain(key.body.token)
    const alice = info.body.team_memberships.find((m: any) => m.user_id === 'alice')
    expect(alice).toMatchObject({ team_id: 'core-infra', spend: 0, litellm_budget_table: { max_budget: 1 } })
    expect(alice.budget_id).toBe(alice.litellm_budget_table.budget_id)
    const missing = await gateway.call('GET', '/team/info')
    expect(missing.body.error).toEqual({ message: 'Malformed request. No team id passed in.', type: 'validation_error', param: 'team_id', code: 422 })
    const unknown = await gateway.call('GET', '/team/info?team_id=nope')
    expect(unknown.body.error).toMatchObject({ code: 404, message: 'Team not found, passed team id: nope.' })
  })

  test('update is partial: absent unchanged, null clears, 0 and [] applied; seed 000 tpm_limit and max_budget', async () => {
    const tpm = await gateway.call('POST', '/team/update', { body: { team_id: 'core-infra', tpm_limit: 100 } })
    expect(tpm.status).toBe(200)
    expect(tpm.body.team_id).toBe('core-infra')
    expect(tpm.body.data).toMatchObject({ tpm_limit: 100, rpm_limit: 10, max_budget: 10, team_alias: 'Core Infra' })
    const budget = await gateway.call('POST', '/team/update', { body: { team_id: 'core-infra', max_budget: 0, soft_budget: null, models: [], team_alias: null } })
    expect(budget.body.data).toMatchObject({ max_budget: 0, soft_budget: null, models: [], team_alias: null, tpm_limit: 100 })
    const tags = await gateway.call('POST', '/team/update', { body: { team_id: 'core-infra', tags: ['prod', 'eu'], guardrails: null } })
    expect(tags.body.data.metadata).toEqual({ team: 'core-infra', app: 'app2', tags: ['prod', 'eu'] })
    const metadata = await gateway.call('POST', '/team/update', { body: { team_id: 'core-infra', metadata: { only: 1 }, team_alias: 'Core Infra' } })
    expect(metadata.body.data).toMatchObject({ metadata: { only: 1 }, team_alias: 'Core Infra' })
    const rows = await audit('core-infra', 'updated')
    expect(rows[rows.length - 1].beforeValue).toMatchObject({ tpmLimit: 1000 })
    expect(rows[rows.length - 1].updatedValues).toMatchObject({ tpmLimit: 100 })
  })

  test('a changed budget_duration starts a fresh window; the same value again changes nothing', async () => {
    const teamId = 'core-infra'
    await gateway.store.repos.teams.addSpend(teamId, 5)
    await gateway.store.repos.memberships.addSpend({ userId: 'carol', teamId }, 0.5)
    clock.advance(60_000)
    const changed = await gateway.call('POST', '/team/update', { body: { team_id: teamId, budget_duration: '30d' } })
    expect(changed.body.data).toMatchObject({ spend: 0, budget_duration: '30d', budget_reset_at: stamp(clock.now() + 30 * DAY) })
    await gateway.store.repos.teams.addSpend(teamId, 2)
    clock.advance(60_000)
    const same = await gateway.call('POST', '/team/update', { body: { team_id: teamId, budget_duration: '30d' } })
    expect(same.body.data).toMatchObject({ spend: 2, budget_reset_at: changed.body.data.budget_reset_at })
    const [sameRow, changedRow] = await gateway.audit(teamId, 'updated')
    expect(changedRow).toMatchObject({ route: '/team/update', beforeValue: expect.objectContaining({ spend: 5 }), updatedValues: expect.objectContaining({ spend: 0, budgetDuration: '30d' }) })
    expect(sameRow.updatedValues).toMatchObject({ spend: 2 })
    // carol follows the team default member window ('1w'), not the team's: her spend is untouched.
    expect((await gateway.store.repos.memberships.get({ userId: 'carol', teamId }))!.spend).toBe(0.5)
    const member = await gateway.call('POST', '/team/update', { body: { team_id: teamId, team_member_budget_duration: '1d', team_member_budget: 3 } })
    expect(member.body.data.team_member_budget_table).toMatchObject({ max_budget: 3, budget_duration: '1d', budget_reset_at: stamp(clock.now() + DAY) })
    expect((await gateway.store.repos.memberships.get({ userId: 'carol', teamId }))!.spend).toBe(0)
    const cleared = await gateway.call('POST', '/team/update', {
      body: { team_id: teamId, team_member_budget: null, team_member_budget_duration: null, team_member_tpm_limit: null, team_member_rpm_limit: null },
    })
    expect(cleared.body.data.team_member_budget_table).toBeNull()
  })

  test('update can replace the members from members_with_roles', async () => {
    const updated = await gateway.call('POST', '/team/update', {
      body: { team_id: 'core-infra', members_with_roles: [{ role: 'user', user_id: 'alice' }, { role: 'admin', user_id: 'dave' }] },
    })
    expect(updated.body.data.members_with_roles).toEqual([
      { user_id: 'alice', user_email: null, role: 'user' },
      { user_id: 'dave', user_email: null, role: 'admin' },
    ])
    expect(await gateway.store.repos.memberships.get({ userId: 'carol', teamId: 'core-infra' })).toBeNull()
    expect(await gateway.audit('core-infra:carol', 'deleted')).toEqual([expect.objectContaining({ route: '/team/update', tableName: 'team_memberships' })])
    expect(await gateway.audit('core-infra:dave', 'created')).toEqual([expect.objectContaining({ route: '/team/update' })])
    // alice's own budget row survives a role change.
    expect((await gateway.store.repos.memberships.get({ userId: 'alice', teamId: 'core-infra' }))!.budgetId).not.toBeNull()
  })

  test('bad input: the contract status and message naming the field, and nothing written', async () => {
    const before = (await gateway.store.repos.teams.list({})).total
    const auditBefore = await gateway.auditCount()
    const cases: [unknown, number, string, string | null][] = [
      [{ team_id: 'core-infra' }, 400, 'Team id = core-infra already exists. Please use a different team id.', 'team_id'],
      [{ organization_id: 'org-x' }, 400, 'Organization not found for organization_id=org-x', 'organization_id'],
      [{ max_budget: -1 }, 400, 'max_budget must be a non-negative finite number. Received: -1', 'max_budget'],
      [{ team_member_budget: -2 }, 400, 'team_member_budget must be a non-negative finite number. Received: -2', 'team_member_budget'],
      [{ budget_duration: '1hr' }, 400, `Invalid budget_duration '1hr': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`, 'budget_duration'],
      [{ team_member_budget_duration: 'daily' }, 400, `Invalid team_member_budget_duration 'daily': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`, 'team_member_budget_duration'],
      [{ members_with_roles: [{ role: 'user' }] }, 400, 'Either user id or user email must be provided', null],
      [{ team_member_permissions: ['/team/new'] }, 400, expect.stringContaining('/team/new is not a key management route') as any, 'team_member_permissions'],
      [{ tpm_limit: 'ten' }, 422, 'tpm_limit: expected number', 'tpm_limit'],
      [{ tpm_limit: -1 }, 422, expect.stringContaining('tpm_limit: ') as any, 'tpm_limit'],
      [{ team_aliass: 'x' }, 422, 'team_aliass: unknown field', 'team_aliass'],
      [{ members_with_roles: [{ role: 'owner', user_id: 'x' }] }, 422, expect.stringContaining('members_with_roles[0].role') as any, 'members_with_roles[0].role'],
      [{ team_id: ' padded' }, 422, 'team_id: must not start or end with whitespace', 'team_id'],
    ]
    for (const [body, status, message, param] of cases) {
      const response = await gateway.call('POST', '/team/new', { body: { team_alias: 'bad', ...(body as object) } })
      expect({ body, status: response.status }).toEqual({ body, status })
      expect(response.body.error).toMatchObject({ message, param, code: status })
    }
    expect((await gateway.store.repos.teams.list({})).total).toBe(before)
    expect((await gateway.store.repos.users.list({}, { offset: 0, limit: 100 })).rows.some((u) => u.userEmail === null && u.userId === 'x')).toBe(false)
    const missing = await gateway.call('POST', '/team/update', { body: { team_id: 'nope', tpm_limit: 1 } })
    expect(missing.body.error).toEqual({ message: 'Team not found, passed team_id=nope', type: 'not_found_error', param: 'team_id', code: 404 })
    const noId = await gateway.call('POST', '/team/update', { body: { tpm_limit: 1 } })
    expect(noId.body.error).toMatchObject({ code: 422, param: 'team_id' })
    const negative = await gateway.call('POST', '/team/update', { body: { team_id: 'core-infra', max_budget: -5, tpm_limit: 1 } })
    expect(negative.status).toBe(400)
    expect((await gateway.store.repos.teams.get('core-infra'))!.tpmLimit).toBe(100)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('list, v2 list with pages and filters', async () => {
    await gateway.call('POST', '/team/new', { body: { team_id: 'open-team', team_alias: 'Alpha Open' } })
    const list = await gateway.call('GET', '/team/list')
    expect(list.status).toBe(200)
    expect(list.body.map((t: any) => t.team_alias)).toEqual(['Alpha Open', 'Core Infra', 'QA Prod Bot'])
    expect(list.body[1].keys).toHaveLength(1)
    expect(list.body[1].team_memberships.map((m: any) => m.user_id).sort()).toEqual(['alice', 'dave'])
    expect((await gateway.call('GET', '/team/list?organization_id=org-1')).body.map((t: any) => t.team_id)).toEqual(['core-infra'])
    expect((await gateway.call('GET', '/team/list?organization_id=default_organization')).body).toHaveLength(2)
    expect((await gateway.call('GET', '/team/list?user_id=dave')).body.map((t: any) => t.team_id)).toEqual(['core-infra'])
    const page = await gateway.call('GET', '/v2/team/list?page=2&page_size=2')
    expect(page.body).toMatchObject({ total: 3, page: 2, page_size: 2, total_pages: 2 })
    expect(page.body.teams.map((t: any) => t.team_alias)).toEqual(['QA Prod Bot'])
    expect((await gateway.call('GET', '/v2/team/list?team_alias=core')).body.teams.map((t: any) => t.team_id)).toEqual(['core-infra'])
    expect((await gateway.call('GET', '/v2/team/list?page=0')).status).toBe(422)
  })

  test('available teams, models, permissions', async () => {
    const available = await gateway.call('GET', '/team/available')
    expect(available.body.map((t: any) => t.team_id)).toEqual(['open-team'])
    const added = await gateway.call('POST', '/team/model/add', { body: { team_id: 'open-team', models: ['gpt-4o', 'llama3', 'gpt-4o'] } })
    expect(added.body.models).toEqual(['gpt-4o', 'llama3'])
    const again = await gateway.call('POST', '/team/model/add', { body: { team_id: 'open-team', models: ['llama3', 'claude'] } })
    expect(again.body.models).toEqual(['gpt-4o', 'llama3', 'claude'])
    const removed = await gateway.call('POST', '/team/model/delete', { body: { team_id: 'open-team', models: ['llama3'] } })
    expect(removed.body.models).toEqual(['gpt-4o', 'claude'])
    expect((await gateway.call('POST', '/team/model/add', { body: { team_id: 'nope', models: ['x'] } })).status).toBe(404)
    const permissions = await gateway.call('GET', '/team/permissions_list?team_id=open-team')
    expect(permissions.body.team_member_permissions).toEqual(['/key/info', '/key/health'])
    expect(permissions.body.all_available_permissions).toContain('/key/generate')
    const changed = await gateway.call('POST', '/team/permissions_update', { body: { team_id: 'open-team', team_member_permissions: ['/key/update'] } })
    expect(changed.body.team_member_permissions).toEqual(['/key/update'])
    const invalid = await gateway.call('POST', '/team/permissions_update', { body: { team_id: 'open-team', team_member_permissions: ['/user/new'] } })
    expect(invalid.body.error).toMatchObject({ code: 400, param: 'team_member_permissions' })
    expect((await audit('open-team', 'updated')).length).toBe(4)
  })

  test('block and unblock take effect for the team keys at once', async () => {
    const key = await gateway.call('POST', '/key/generate', { body: { team_id: 'open-team' } })
    expect((await gateway.call('GET', '/key/info', { key: key.body.key })).status).toBe(200)
    const blocked = await gateway.call('POST', '/team/block', { body: { team_id: 'open-team' } })
    expect(blocked.body).toMatchObject({ team_id: 'open-team', blocked: true })
    expect((await gateway.call('GET', '/key/info', { key: key.body.key })).body.error).toMatchObject({
      code: 401,
      message: "Team=open-team is blocked. Update via `/team/unblock` if you're an admin.",
    })
    const unblocked = await gateway.call('POST', '/team/unblock', { body: { team_id: 'open-team' } })
    expect(unblocked.body.blocked).toBe(false)
    expect((await gateway.call('GET', '/key/info', { key: key.body.key })).status).toBe(200)
    expect((await audit('open-team', 'blocked')).length).toBe(1)
    expect((await audit('open-team', 'unblocked')).length).toBe(1)
    expect((await gateway.call('POST', '/team/block', { body: { team_id: 'nope' } })).body.error).toMatchObject({
      code: 404,
      message: 'Team not found, passed team_id=nope',
    })
    // An update evicts the cached team snapshot, so the data plane reads the new limits on its next request.
    await gateway.context.caches.teams.get('open-team')
    await gateway.call('POST', '/team/update', { body: { team_id: 'open-team', rpm_limit: 1 } })
    expect(gateway.context.caches.teams.peek('open-team')).toBeUndefined()
  })

  test('delete is all-or-nothing and removes keys, memberships and member budgets, archiving them', async () => {
    const info = await gateway.call('GET', '/team/info?team_id=core-infra')
    const aliceBudget = info.body.team_memberships.find((m: any) => m.user_id === 'alice').budget_id
    const key = await gateway.call('POST', '/key/generate', { body: { team_id: 'core-infra', user_id: 'dave' } })
    expect((await gateway.call('GET', '/key/info', { key: key.body.key })).status).toBe(200)

    const partial = await gateway.call('POST', '/team/delete', { body: { team_ids: ['core-infra', 'nope'] } })
    expect(partial.body.error).toEqual({ message: 'Team not found, passed team_id=nope', type: 'not_found_error', param: 'team_id', code: 404 })
    expect(await gateway.store.repos.teams.get('core-infra')).not.toBeNull()
    expect((await gateway.store.repos.keys.listByTeam('core-infra')).length).toBe(2)

    const deleted = await gateway.call('POST', '/team/delete', { body: { team_ids: ['core-infra'] } })
    expect(deleted.body).toEqual({ deleted_teams: ['core-infra'] })
    const { repos } = gateway.store
    expect(await repos.teams.get('core-infra')).toBeNull()
    expect(await repos.keys.listByTeam('core-infra')).toEqual([])
    expect(await repos.memberships.listByTeam('core-infra')).toEqual([])
    expect(await repos.budgets.get(aliceBudget)).toBeNull()
    expect((await repos.archive.deletedKeys({ teamId: 'core-infra' })).length).toBe(2)
    expect((await repos.archive.deletedTeams('core-infra'))[0].data).toMatchObject({ teamAlias: 'Core Infra' })
    expect((await repos.users.get('alice'))).not.toBeNull()
    expect((await audit('core-infra', 'deleted')).length).toBe(1)
    expect((await audit(key.body.token, 'deleted')).length).toBe(1)
    expect((await audit('core-infra:alice', 'deleted')).length).toBe(1)
    expect((await gateway.call('GET', '/key/info', { key: key.body.key })).body.error.type).toBe('token_not_found_in_db')
  })

  test('team routes need a credential; an internal user is refused team creation and lists only their own teams', async () => {
    expect((await gateway.call('GET', '/team/list', { key: null })).status).toBe(401)
    // The credential is checked before the body: no schema details for callers without one.
    const anonymous = await gateway.call('POST', '/team/new', { key: null, body: { tpm_limit: 'x' } })
    expect(anonymous.body.error).toEqual({ message: 'No api key passed in.', type: 'auth_error', param: null, code: 401 })
    const key = await gateway.call('POST', '/key/generate', { body: { user_id: 'plain-user' } })
    const refused = await gateway.call('POST', '/team/new', { key: key.body.key, body: {} })
    expect(refused.body.error).toEqual({ message: 'Admin-only endpoint. Not allowed to access this.', type: 'auth_error', param: null, code: 403 })
    await gateway.call('POST', '/team/new', { body: { team_id: 'not-theirs' } })
    const listed = await gateway.call('GET', '/team/list', { key: key.body.key })
    expect(listed.status).toBe(200)
    expect(listed.body).toEqual([])
  })
})
