import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'

const DAY = 86_400_000

describeEachEngine('organizations', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const audit = (objectId: string, action?: string) => gateway.audit(objectId, action)

  beforeAll(async () => {
    gateway = await startGateway(engine)
    clock = gateway.clock as ManualClock
  })
  afterAll(() => gateway.close())

  test('a new organization gets a budget row from its budget fields (or an empty one), with audit rows', async () => {
    const now = clock.now()
    const created = await gateway.call('POST', '/organization/new', {
      body: {
        organization_id: 'org-1',
        organization_alias: 'Acme',
        models: ['gpt-4o', 'llama3'],
        metadata: { region: 'eu' },
        max_budget: 10,
        soft_budget: 8,
        tpm_limit: 1000,
        rpm_limit: 50,
        max_parallel_requests: 4,
        budget_duration: '30d',
        model_max_budget: { 'gpt-4o': { budget_limit: 1 } },
        object_permission: { vector_stores: [] },
      },
    })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      organization_id: 'org-1',
      organization_alias: 'Acme',
      models: ['gpt-4o', 'llama3'],
      metadata: { region: 'eu', object_permission: { vector_stores: [] } },
      spend: 0,
      created_by: 'default_user_id',
      litellm_budget_table: {
        max_budget: 10,
        soft_budget: 8,
        tpm_limit: 1000,
        rpm_limit: 50,
        max_parallel_requests: 4,
        budget_duration: '30d',
        budget_reset_at: formatTimestamp(new Date(now + 30 * DAY)),
        model_max_budget: { 'gpt-4o': { budget_limit: 1 } },
      },
    })
    expect(created.body.budget_id).toBe(created.body.litellm_budget_table.budget_id)
    expect((await audit('org-1'))[0]).toMatchObject({ action: 'created', tableName: 'organizations', route: '/organization/new' })
    expect((await audit(created.body.budget_id))[0]).toMatchObject({ action: 'created', tableName: 'budgets' })

    const bare = await gateway.call('POST', '/organization/new', { body: { organization_alias: 'Bare' } })
    expect(bare.body.organization_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(bare.body.litellm_budget_table).toMatchObject({ max_budget: null, tpm_limit: null })
    expect(await gateway.store.repos.budgets.get(bare.body.budget_id)).not.toBeNull()
  })

  test('budget_id links a tier instead; bad input is refused with nothing written', async () => {
    await gateway.call('POST', '/budget/new', { body: { budget_id: 'gold', max_budget: 100 } })
    const linked = await gateway.call('POST', '/organization/new', { body: { organization_id: 'org-gold', organization_alias: 'Gold', budget_id: 'gold' } })
    expect(linked.body).toMatchObject({ budget_id: 'gold', litellm_budget_table: { budget_id: 'gold', max_budget: 100 } })
    expect(await gateway.audit('org-gold', 'created')).toEqual([expect.objectContaining({ route: '/organization/new', organizationId: 'org-gold' })])
    const auditBefore = await gateway.auditCount()

    const both = await gateway.call('POST', '/organization/new', { body: { organization_alias: 'X', budget_id: 'gold', tpm_limit: 5 } })
    expect(both.body.error).toEqual({ message: "Set either 'tpm_limit' or 'budget_id', not both.", type: 'bad_request_error', param: 'tpm_limit', code: 400 })
    const unknownBudget = await gateway.call('POST', '/organization/new', { body: { organization_id: 'org-x', organization_alias: 'X', budget_id: 'nope' } })
    expect(unknownBudget.body.error).toMatchObject({ code: 404, param: 'budget_id' })
    const duplicate = await gateway.call('POST', '/organization/new', { body: { organization_id: 'org-1', organization_alias: 'Again' } })
    expect(duplicate.body.error).toMatchObject({ code: 400, param: 'organization_id' })
    expect((await gateway.call('POST', '/organization/new', { body: { organization_id: 'org-x' } })).body.error).toMatchObject({
      code: 422,
      message: 'organization_alias: field required',
    })
    expect((await gateway.call('POST', '/organization/new', { body: { organization_alias: 'X', max_budget: -1 } })).status).toBe(400)
    expect((await gateway.call('POST', '/organization/new', { body: { organization_alias: 'X', budget_duration: 'monthly' } })).status).toBe(400)
    expect(await gateway.store.repos.organizations.get('org-x')).toBeNull()
    expect((await gateway.store.repos.organizations.list({})).length).toBe(3)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('update (PATCH or POST): budget fields update the linked row, a changed window restarts spend, the cache sees it at once', async () => {
    const before = (await gateway.store.repos.organizations.get('org-1'))!
    await gateway.store.repos.organizations.addSpend('org-1', 2)
    expect((await gateway.context.caches.organizations.get('org-1'))!.organizationAlias).toBe('Acme')
    clock.advance(60_000)
    const updated = await gateway.call('PATCH', '/organization/update', {
      body: { organization_id: 'org-1', organization_alias: 'Acme Corp', max_budget: 20, tpm_limit: null, budget_duration: '1d' },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({
      organization_alias: 'Acme Corp',
      budget_id: before.budgetId,
      spend: 0,
      models: ['gpt-4o', 'llama3'],
      litellm_budget_table: { max_budget: 20, tpm_limit: null, rpm_limit: 50, budget_duration: '1d', budget_reset_at: formatTimestamp(new Date(clock.now() + DAY)) },
    })
    expect((await gateway.context.caches.organizations.get('org-1'))!.organizationAlias).toBe('Acme Corp')
    const viaPost = await gateway.call('POST', '/organization/update', { body: { organization_id: 'org-1', models: [], metadata: null } })
    expect(viaPost.body).toMatchObject({ models: [], metadata: {} })
    const [row] = await audit(before.budgetId, 'updated')
    expect(row.updatedValues).toMatchObject({ maxBudget: 20 })

    const relinked = await gateway.call('POST', '/organization/update', { body: { organization_id: 'org-gold', budget_id: before.budgetId } })
    expect(relinked.body.litellm_budget_table.max_budget).toBe(20)
    await gateway.call('POST', '/organization/update', { body: { organization_id: 'org-gold', budget_id: 'gold' } })
    const missing = await gateway.call('PATCH', '/organization/update', { body: { organization_id: 'nope', organization_alias: 'x' } })
    expect(missing.body.error).toEqual({ message: 'Organization not found for organization_id=nope', type: 'not_found_error', param: 'organization_id', code: 404 })
  })

  test('a team in an organization stays within its budget row and models; a refused move writes nothing', async () => {
    const auditBefore = await gateway.auditCount()
    const over = await gateway.call('POST', '/team/new', { body: { team_id: 'team-a', organization_id: 'org-1', max_budget: 25 } })
    expect(over.body.error).toEqual({
      message: "Team max_budget (25.0) exceeds organization's max_budget (20.0). organization_id=org-1",
      type: 'bad_request_error',
      param: 'max_budget',
      code: 400,
    })
    expect(await gateway.store.repos.teams.get('team-a')).toBeNull()
    expect(await gateway.auditCount()).toBe(auditBefore)
    const inside = await gateway.call('POST', '/team/new', { body: { team_id: 'team-a', organization_id: 'org-1', max_budget: 5, rpm_limit: 50 } })
    expect(inside.status).toBe(200)
    const raise = await gateway.call('POST', '/team/update', { body: { team_id: 'team-a', rpm_limit: 51 } })
    expect(raise.body.error).toMatchObject({ code: 400, param: 'rpm_limit', message: "Team rpm_limit (51) exceeds organization's rpm_limit (50). organization_id=org-1" })

    // A team outside any organization, with a tpm limit and models the target organization does not allow.
    await gateway.call('POST', '/organization/update', { body: { organization_id: 'org-1', tpm_limit: 100, models: ['gpt-4o'] } })
    await gateway.call('POST', '/team/new', { body: { team_id: 'team-b', tpm_limit: 500, models: ['gpt-4o', 'claude'] } })
    const move = await gateway.call('POST', '/team/update', { body: { team_id: 'team-b', organization_id: 'org-1', team_alias: 'moved' } })
    expect(move.body.error).toMatchObject({ code: 400, param: 'tpm_limit', message: "Team tpm_limit (500) exceeds organization's tpm_limit (100). organization_id=org-1" })
    const models = await gateway.call('POST', '/team/update', { body: { team_id: 'team-b', organization_id: 'org-1', tpm_limit: 100 } })
    expect(models.body.error).toMatchObject({
      code: 400,
      param: 'models',
      message: "Team models=['claude'] are not in organization's models=['gpt-4o']. organization_id=org-1",
    })
    const unchanged = (await gateway.store.repos.teams.get('team-b'))!
    expect(unchanged).toMatchObject({ organizationId: null, tpmLimit: 500, teamAlias: null })
    const fits = await gateway.call('POST', '/team/update', { body: { team_id: 'team-b', organization_id: 'org-1', tpm_limit: 100, models: ['gpt-4o'] } })
    expect(fits.status).toBe(200)
    expect(fits.body.data.organization_id).toBe('org-1')
    // A team already inside keeps working for changes that do not touch its limits.
    expect((await gateway.call('POST', '/team/update', { body: { team_id: 'team-a', team_alias: 'A' } })).status).toBe(200)
  })

  test('members: add (creating missing users), update the role, delete; bad roles and non-members are refused', async () => {
    await gateway.call('POST', '/user/new', { body: { user_id: 'ann', auto_create_key: false } })
    const added = await gateway.call('POST', '/organization/member_add', {
      body: {
        organization_id: 'org-1',
        member: [{ user_id: 'ann', role: 'org_admin' }, { user_email: 'New@Example.com', role: 'internal_user' }],
        max_budget_in_organization: 3,
      },
    })
    expect(added.status).toBe(200)
    expect(added.body.organization_id).toBe('org-1')
    expect(added.body.updated_users.map((u: any) => u.user_email)).toEqual([null, 'New@Example.com'])
    const newcomer = added.body.updated_users[1].user_id
    expect(newcomer).toMatch(/^[0-9a-f-]{36}$/)
    expect(added.body.updated_organization_memberships[0]).toMatchObject({ user_id: 'ann', user_role: 'org_admin', litellm_budget_table: { max_budget: 3 } })
    expect(gateway.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', route: '/organization/member_add', fields: ['max_budget_in_organization'] }))
    expect((await audit(newcomer, 'created'))[0]).toMatchObject({ tableName: 'users' })

    const again = await gateway.call('POST', '/organization/member_add', { body: { organization_id: 'org-1', member: { user_id: 'ann', role: 'org_admin' } } })
    expect(again.body.error).toMatchObject({ code: 400, message: 'User=ann is already a member of organization=org-1' })
    const badRole = await gateway.call('POST', '/organization/member_add', { body: { organization_id: 'org-1', member: { user_id: 'zed', role: 'owner' } } })
    expect(badRole.body.error.message).toBe("Invalid role. Must be one of: ['org_admin', 'internal_user', 'internal_user_viewer']")
    expect(await gateway.store.repos.users.get('zed')).toBeNull()
    const unknownOrg = await gateway.call('POST', '/organization/member_add', { body: { organization_id: 'nope', member: { user_id: 'zed', role: 'org_admin' } } })
    expect(unknownOrg.status).toBe(404)
    expect(await gateway.store.repos.users.get('zed')).toBeNull()

    const updated = await gateway.call('PATCH', '/organization/member_update', { body: { organization_id: 'org-1', user_email: 'new@example.com', role: 'internal_user_viewer' } })
    expect(updated.body).toMatchObject({ user_id: newcomer, organization_id: 'org-1', user_role: 'internal_user_viewer' })
    const invalid = await gateway.call('PATCH', '/organization/member_update', { body: { organization_id: 'org-1', user_id: 'ann', role: 'admin' } })
    expect(invalid.body.error).toEqual({
      message: "Invalid role. Must be one of: ['org_admin', 'internal_user', 'internal_user_viewer']",
      type: 'bad_request_error',
      param: 'role',
      code: 400,
    })
    const stranger = await gateway.call('PATCH', '/organization/member_update', { body: { organization_id: 'org-1', user_id: 'nobody', role: 'org_admin' } })
    expect(stranger.body.error).toMatchObject({ code: 400, message: 'User not found in organization' })
    expect((await gateway.call('PATCH', '/organization/member_update', { body: { organization_id: 'org-1', role: 'org_admin' } })).status).toBe(400)

    const annBudget = (await gateway.store.repos.organizationMemberships.get({ userId: 'ann', organizationId: 'org-1' }))!.budgetId!
    const removed = await gateway.call('DELETE', '/organization/member_delete', { body: { organization_id: 'org-1', user_id: 'ann' } })
    expect(removed.body).toMatchObject({ user_id: 'ann', organization_id: 'org-1', user_role: 'org_admin' })
    expect(await gateway.store.repos.organizationMemberships.get({ userId: 'ann', organizationId: 'org-1' })).toBeNull()
    expect(await gateway.store.repos.budgets.get(annBudget)).toBeNull()
    expect((await audit('org-1:ann', 'deleted'))[0]).toMatchObject({ tableName: 'organization_memberships' })
  })

  test('info and list show members and teams', async () => {
    const info = await gateway.call('GET', '/organization/info?organization_id=org-1')
    expect(info.status).toBe(200)
    expect(info.body).toMatchObject({ organization_id: 'org-1', organization_alias: 'Acme Corp', litellm_budget_table: { max_budget: 20 } })
    expect(info.body.members.map((m: any) => m.user_email)).toEqual(['New@Example.com'])
    expect(info.body.teams.map((t: any) => t.team_id).sort()).toEqual(['team-a', 'team-b'])
    expect((await gateway.call('GET', '/organization/info?organization_id=nope')).status).toBe(404)
    expect((await gateway.call('GET', '/organization/info')).status).toBe(422)
    const list = await gateway.call('GET', '/organization/list')
    expect(list.body.map((o: any) => o.organization_alias)).toEqual(['Acme Corp', 'Bare', 'Gold'])
    expect(list.body[0].teams).toHaveLength(2)
  })

  test('delete: refused while teams remain, all or nothing, then removes memberships and unlinks keys', async () => {
    const key = await gateway.call('POST', '/key/generate', { body: { organization_id: 'org-1' } })
    const refused = await gateway.call('DELETE', '/organization/delete', { body: { organization_ids: ['org-gold', 'org-1'] } })
    expect(refused.body.error).toMatchObject({ code: 400, message: 'Organization org-1 still has 2 teams' })
    expect(await gateway.store.repos.organizations.get('org-gold')).not.toBeNull()
    const unknown = await gateway.call('DELETE', '/organization/delete', { body: { organization_ids: ['org-gold', 'nope'] } })
    expect(unknown.status).toBe(404)
    expect(await gateway.store.repos.organizations.get('org-gold')).not.toBeNull()

    await gateway.call('POST', '/team/delete', { body: { team_ids: ['team-a', 'team-b'] } })
    const deleted = await gateway.call('DELETE', '/organization/delete', { body: { organization_ids: ['org-1'] } })
    expect(deleted.status).toBe(200)
    expect(deleted.body).toEqual([expect.objectContaining({ organization_id: 'org-1', teams: [], members: [expect.objectContaining({ user_email: 'New@Example.com' })] })])
    expect(await gateway.store.repos.organizations.get('org-1')).toBeNull()
    expect(await gateway.store.repos.organizationMemberships.listByOrganization('org-1')).toEqual([])
    expect((await gateway.store.repos.keys.get(key.body.token))!.organizationId).toBeNull()
    expect((await audit('org-1', 'deleted'))[0]).toMatchObject({ tableName: 'organizations', route: '/organization/delete' })
    expect(await gateway.context.caches.organizations.get('org-1')).toBeNull()
  })

  test('writes need a proxy admin; reads accept the admin viewer', async () => {
    await gateway.call('POST', '/user/new', { body: { user_id: 'viewer', user_role: 'proxy_admin_viewer', auto_create_key: false } })
    const viewerKey = (await gateway.call('POST', '/key/generate', { body: { user_id: 'viewer' } })).body.key
    expect((await gateway.call('GET', '/organization/list', { key: viewerKey })).status).toBe(200)
    const write = await gateway.call('POST', '/organization/new', { body: { organization_alias: 'X' }, key: viewerKey })
    expect(write.body.error).toEqual({ message: 'Only admins can create orgs. Your role is = proxy_admin_viewer', type: 'auth_error', param: null, code: 403 })
    const update = await gateway.call('PATCH', '/organization/update', { body: { organization_id: 'x', organization_alias: 'Y' }, key: viewerKey })
    expect(update.body.error).toEqual({ message: 'Admin-only endpoint. Not allowed to access this.', type: 'auth_error', param: null, code: 403 })
  })
})
