import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { actorOf } from '../../audit/record'
import { adminPrincipal } from '../../auth/principal'
import type { ManualClock } from '../../lib/clock'
import { addDuration } from '../../lib/duration'
import { sha256Hex } from '../../lib/secrets'
import { formatTimestamp } from '../../lib/time'
import { createUser, updateUser } from './service'

const DAY = 86_400_000
const stamp = (ms: number) => formatTimestamp(new Date(ms))

describeEachEngine('users', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const audit = (objectId: string, action?: string) => gateway.audit(objectId, action)

  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: {
        model_list: [{ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } }],
        litellm_settings: {
          default_internal_user_params: { models: ['gpt-4o'], tpm_limit: 100, available_teams: ['ignored'] },
          max_internal_user_budget: 5,
          internal_user_budget_duration: '1mo',
        },
      },
    })
    clock = gateway.clock as ManualClock
    await gateway.call('POST', '/team/new', { body: { team_id: 't-1', team_alias: 'Beta' } })
    await gateway.call('POST', '/team/new', { body: { team_id: 't-2', team_alias: 'Alpha' } })
    await gateway.call('POST', '/organization/new', { body: { organization_id: 'org-1', organization_alias: 'Acme' } })
  })
  afterAll(() => gateway.close())

  test('a new user takes the configured defaults, gets a key of its own, and stores only an argon2id hash of the password', async () => {
    const now = clock.now()
    const created = await gateway.call('POST', '/user/new', {
      body: { user_email: 'Ann@Example.com', key_alias: 'ann-key', duration: '30d', password: 'correct horse', metadata: { dept: 'r&d' }, guardrails: ['pii'] },
    })
    expect(created.status).toBe(200)
    const user = created.body
    expect(user).toMatchObject({
      user_email: 'Ann@Example.com',
      user_role: 'internal_user',
      models: ['gpt-4o'],
      tpm_limit: 100,
      max_budget: 5,
      budget_duration: '1mo',
      budget_reset_at: formatTimestamp(addDuration(new Date(now), '1mo')),
      metadata: { dept: 'r&d', guardrails: ['pii'] },
      key_alias: 'ann-key',
      expires: stamp(now + 30 * DAY),
      teams: [],
      organizations: [],
    })
    expect(user.user_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(user.key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/)
    expect(user.token).toBe(sha256Hex(user.key))
    expect(created.text).not.toContain('correct horse')
    expect(created.text).not.toContain('argon2')
    const row = (await gateway.store.repos.users.get(user.user_id))!
    expect(row.passwordHash).toStartWith('$argon2id$')
    expect(await Bun.password.verify('correct horse', row.passwordHash!)).toBe(true)
    expect((await gateway.store.repos.keys.get(user.token))!.userId).toBe(user.user_id)
    const [userAudit] = await audit(user.user_id, 'created')
    expect(userAudit).toMatchObject({ tableName: 'users', route: '/user/new', changedBy: 'default_user_id' })
    expect(userAudit.updatedValues).not.toHaveProperty('passwordHash')
    expect((await audit(user.token, 'created'))[0]).toMatchObject({ tableName: 'keys' })
    // The key works at once, acting as that user.
    const self = await gateway.call('GET', '/user/info', { key: user.key })
    expect(self.status).toBe(200)
    expect(self.body.user_id).toBe(user.user_id)
  })

  test('teams (ids or entries with a role and budget), organizations, no key, and an explicit role without the internal-user defaults', async () => {
    const created = await gateway.call('POST', '/user/new', {
      body: {
        user_id: 'bob',
        user_role: 'proxy_admin_viewer',
        teams: ['t-1', { team_id: 't-2', user_role: 'admin', max_budget_in_team: 2 }],
        organizations: ['org-1'],
        auto_create_key: false,
        models: ['no-default-models'],
      },
    })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      user_id: 'bob',
      user_role: 'proxy_admin_viewer',
      key: null,
      key_alias: null,
      token: null,
      max_budget: null,
      budget_duration: null,
      models: ['no-default-models'],
      teams: ['t-1', 't-2'],
      organizations: ['org-1'],
    })
    const team = await gateway.call('GET', '/team/info?team_id=t-2')
    expect(team.body.team_info.admins).toEqual(['bob'])
    expect(team.body.team_memberships[0]).toMatchObject({ user_id: 'bob', litellm_budget_table: { max_budget: 2 } })
    const organization = await gateway.call('GET', '/organization/info?organization_id=org-1')
    expect(organization.body.members).toEqual([expect.objectContaining({ user_id: 'bob', user_role: 'internal_user' })])
    expect((await audit('t-2:bob'))[0]).toMatchObject({ action: 'created', tableName: 'team_memberships' })
    expect((await audit('org-1:bob'))[0]).toMatchObject({ action: 'created', tableName: 'organization_memberships' })
    expect(await gateway.store.repos.keys.listByUser('bob')).toEqual([])
  })

  test('bad input on /user/new: duplicates are 409, unknown teams and organizations 404, and nothing is half-written', async () => {
    const email = await gateway.call('POST', '/user/new', { body: { user_email: 'ann@EXAMPLE.com' } })
    expect(email.status).toBe(409)
    expect(email.body.error).toEqual({ message: 'User with email ann@EXAMPLE.com already exists', type: 'bad_request_error', param: 'user_email', code: 409 })
    const id = await gateway.call('POST', '/user/new', { body: { user_id: 'bob' } })
    expect(id.body.error).toMatchObject({ code: 409, message: 'User with id bob already exists' })

    const team = await gateway.call('POST', '/user/new', { body: { user_id: 'carl', teams: ['t-1', 'nope'] } })
    expect(team.status).toBe(404)
    expect(team.body.error.message).toBe('Team not found, passed team_id=nope')
    const organization = await gateway.call('POST', '/user/new', { body: { user_id: 'carl', organizations: ['nope'] } })
    expect(organization.body.error).toMatchObject({ code: 404, message: 'Organization not found for organization_id=nope' })
    const alias = await gateway.call('POST', '/user/new', { body: { user_id: 'carl', key_alias: 'ann-key' } })
    expect(alias.body.error).toMatchObject({ code: 400, param: 'key_alias' })
    expect(await gateway.store.repos.users.get('carl')).toBeNull()
    expect(await gateway.store.repos.memberships.get({ userId: 'carl', teamId: 't-1' })).toBeNull()
    expect(await audit('carl')).toEqual([])

    const cases: [unknown, number, string][] = [
      [{ user_role: 'boss' }, 422, 'user_role'],
      [{ password: 'short' }, 422, 'password'],
      [{ max_budget: -1 }, 400, 'max_budget'],
      [{ budget_duration: '1hr' }, 400, 'budget_duration'],
      [{ duration: 'forever' }, 400, 'duration'],
      [{ teams: [{ team_id: 't-1', user_role: 'owner' }] }, 422, 'teams[0]'],
      [{ user_name: 'x' }, 422, 'user_name'],
      [{ user_id: ' padded' }, 422, 'user_id'],
    ]
    for (const [body, status, param] of cases) {
      const response = await gateway.call('POST', '/user/new', { body })
      expect(response.status).toBe(status)
      expect(response.body.error.param).toStartWith(param)
    }
  })

  test('only proxy admins may create administrative users or change roles', async () => {
    const viewer = { ...adminPrincipal(), kind: 'virtual_key' as const, role: 'proxy_admin_viewer' as const, userId: 'bob' }
    const actor = actorOf(viewer, '/user/new', null)
    const refused = await createUser(gateway.context, actor, { user_id: 'eve', user_role: 'proxy_admin' }).catch((error) => error)
    expect(refused).toMatchObject({ httpStatus: 403, message: 'Only proxy admins can create administrative users (proxy_admin, proxy_admin_viewer)' })
    const role = await updateUser(gateway.context, actor, { user_id: 'bob', user_role: 'proxy_admin' }).catch((error) => error)
    expect(role).toMatchObject({ httpStatus: 403, message: 'Only proxy admins can modify user roles.' })
    expect(await gateway.store.repos.users.get('eve')).toBeNull()
  })

  test('/user/info: the user with memberships, keys without hashes and teams by alias; others are 404 to non-admins', async () => {
    await gateway.call('POST', '/key/generate', { body: { user_id: 'bob', team_id: 't-1', key_alias: 'bob-team-key' } })
    const info = await gateway.call('GET', '/user/info?user_id=bob')
    expect(info.status).toBe(200)
    expect(info.body.user_id).toBe('bob')
    expect(info.body.user_info).toMatchObject({ user_id: 'bob', teams: ['t-2', 't-1'] })
    expect(info.body.user_info.organization_memberships).toEqual([expect.objectContaining({ organization_id: 'org-1', user_role: 'internal_user' })])
    expect(info.body.user_info).not.toHaveProperty('password_hash')
    expect(info.body.keys).toEqual([expect.objectContaining({ key_alias: 'bob-team-key', team_id: 't-1' })])
    expect(info.body.keys[0].token).toBeUndefined()
    expect(info.body.teams.map((t: any) => t.team_alias)).toEqual(['Alpha', 'Beta'])

    const missing = await gateway.call('GET', '/user/info?user_id=nope')
    expect(missing.body.error).toEqual({ message: 'User nope not found', type: 'not_found_error', param: 'user_id', code: 404 })
    const carlKey = (await gateway.call('POST', '/key/generate', { body: { user_id: 'carl' } })).body.key
    expect((await gateway.call('GET', '/user/info', { key: carlKey })).body.user_id).toBe('carl')
    const other = await gateway.call('GET', '/user/info?user_id=bob', { key: carlKey })
    expect(other.body.error).toMatchObject({ code: 404, message: 'User bob not found' })
    expect((await gateway.call('GET', '/v2/user/info?user_id=bob', { key: carlKey })).status).toBe(404)

    const v2 = await gateway.call('GET', '/v2/user/info?user_id=bob')
    expect(Object.keys(v2.body).sort()).toEqual(
      ['budget_duration', 'budget_reset_at', 'created_at', 'max_budget', 'metadata', 'models', 'spend', 'teams', 'updated_at', 'user_alias', 'user_email', 'user_id', 'user_role'].sort(),
    )
    expect(v2.body.teams.sort()).toEqual(['t-1', 't-2'])
    // An internal user is not allowed the admin-read routes.
    expect((await gateway.call('GET', '/user/list', { key: carlKey })).status).toBe(403)
  })

  test('/user/update: partial, null clears, a changed window restarts spend, by email, and no implicit creation', async () => {
    await gateway.store.repos.users.addSpend('bob', 3)
    clock.advance(1000)
    const now = clock.now()
    const updated = await gateway.call('POST', '/user/update', {
      body: { user_id: 'bob', user_alias: 'Bobby', user_email: 'bob@example.com', max_budget: 10, budget_duration: '1d', models: null, password: 'new password!' },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ user_id: 'bob', user_alias: 'Bobby', user_email: 'bob@example.com', max_budget: 10, models: [], spend: 0 })
    expect(updated.body.budget_reset_at).toBe(stamp(now + DAY))
    expect(await Bun.password.verify('new password!', (await gateway.store.repos.users.get('bob'))!.passwordHash!)).toBe(true)
    const same = await gateway.call('POST', '/user/update', { body: { user_id: 'bob', budget_duration: '1d', spend: 1 } })
    expect(same.body).toMatchObject({ spend: 1, budget_reset_at: stamp(now + DAY) })
    const byEmail = await gateway.call('POST', '/user/update', { body: { user_email: 'BOB@example.com', user_alias: null, user_role: 'internal_user' } })
    expect(byEmail.body).toMatchObject({ user_id: 'bob', user_alias: null, user_role: 'internal_user', user_email: 'bob@example.com' })
    const [row] = await audit('bob', 'updated')
    expect(row.beforeValue).toMatchObject({ userRole: 'proxy_admin_viewer' })
    expect(row.updatedValues).toMatchObject({ userRole: 'internal_user' })

    const neither = await gateway.call('POST', '/user/update', { body: { user_alias: 'x' } })
    expect(neither.body.error).toMatchObject({ code: 400, message: 'Either user id or user email must be provided' })
    const unknown = await gateway.call('POST', '/user/update', { body: { user_id: 'nobody', user_alias: 'x' } })
    expect(unknown.body.error).toEqual({ message: 'User not found, passed user_id=nobody', type: 'not_found_error', param: 'user_id', code: 404 })
    expect(await gateway.store.repos.users.get('nobody')).toBeNull()
    const taken = await gateway.call('POST', '/user/update', { body: { user_id: 'bob', user_email: 'ANN@example.com' } })
    expect(taken.body.error).toMatchObject({ code: 409, message: 'User with email ANN@example.com already exists' })
  })

  test('/user/bulk_update: each user on its own, or the same change for all users', async () => {
    const bulk = await gateway.call('POST', '/user/bulk_update', {
      body: { users: [{ user_id: 'bob', tpm_limit: 7 }, { user_id: 'ghost', tpm_limit: 7 }] },
    })
    expect(bulk.status).toBe(200)
    expect(bulk.body).toMatchObject({ total_requested: 2, successful_updates: 1, failed_updates: 1 })
    expect(bulk.body.results[0]).toMatchObject({ user_id: 'bob', success: true, error: null, updated_user: { tpm_limit: 7 } })
    expect(bulk.body.results[1]).toEqual({ user_id: 'ghost', user_email: null, success: false, updated_user: null, error: 'User not found, passed user_id=ghost' })
    const [bobRow] = await audit('bob')
    expect(bobRow).toMatchObject({ action: 'updated', route: '/user/bulk_update', updatedValues: expect.objectContaining({ tpmLimit: 7 }) })
    expect(await audit('ghost')).toEqual([])
    const all = await gateway.call('POST', '/user/bulk_update', { body: { all_users: true, user_updates: { rpm_limit: 9 } } })
    expect(all.body.failed_updates).toBe(0)
    expect(all.body.total_requested).toBe((await gateway.store.repos.users.list({}, { offset: 0, limit: 100 })).total)
    expect((await gateway.store.repos.users.get('carl'))!.rpmLimit).toBe(9)
    expect((await audit('carl'))[0]).toMatchObject({ route: '/user/bulk_update', updatedValues: expect.objectContaining({ rpmLimit: 9 }) })
    const auditBefore = await gateway.auditCount()
    expect((await gateway.call('POST', '/user/bulk_update', { body: {} })).status).toBe(400)
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ user_id: `u${i}` }))
    expect((await gateway.call('POST', '/user/bulk_update', { body: { users: tooMany } })).body.error.message).toBe(
      'Maximum 500 users can be updated at once. Found 501 users.',
    )
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('/user/list: filters, paging, sorting and key counts', async () => {
    const all = await gateway.call('GET', '/user/list')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({ page: 1, page_size: 25, total_pages: 1 })
    const bob = all.body.users.find((u: any) => u.user_id === 'bob')
    expect(bob).toMatchObject({ key_count: 1 })
    expect(bob.teams.sort()).toEqual(['t-1', 't-2'])
    const byEmail = await gateway.call('GET', '/user/list?user_email=EXAMPLE.COM&sort_by=user_email')
    expect(byEmail.body.users.map((u: any) => u.user_email)).toEqual(['Ann@Example.com', 'bob@example.com'])
    const byIds = await gateway.call('GET', '/user/list?user_ids=bob,carl&sort_by=user_id&sort_order=desc')
    expect(byIds.body.users.map((u: any) => u.user_id)).toEqual(['carl', 'bob'])
    expect((await gateway.call('GET', '/user/list?team=t-2')).body.users.map((u: any) => u.user_id)).toEqual(['bob'])
    expect((await gateway.call('GET', '/user/list?organization_ids=org-1,org-2')).body.total).toBe(1)
    expect((await gateway.call('GET', '/user/list?role=internal_user')).body.total).toBe(3)
    const paged = await gateway.call('GET', '/user/list?page=2&page_size=2&sort_by=user_id')
    expect(paged.body).toMatchObject({ page: 2, page_size: 2, total: 3, total_pages: 2 })
    expect(paged.body.users).toHaveLength(1)
    expect((await gateway.call('GET', '/user/list?page_size=101')).status).toBe(422)
    expect((await gateway.call('GET', '/user/list?sort_by=password')).status).toBe(422)
  })

  test('/user/delete: all or nothing, answers the count, cascades keys (archived) and memberships, keeps an audit copy', async () => {
    const bobKey = (await gateway.store.repos.keys.listByUser('bob'))[0]
    const refused = await gateway.call('POST', '/user/delete', { body: { user_ids: ['bob', 'nobody'] } })
    expect(refused.body.error).toMatchObject({ code: 404, message: 'User not found, passed user_id=nobody' })
    expect(await gateway.store.repos.users.get('bob')).not.toBeNull()
    expect((await gateway.call('POST', '/user/delete', { body: { user_ids: [] } })).body.error).toMatchObject({ code: 400, message: 'No user id passed in' })

    const carlKey = (await gateway.call('POST', '/key/generate', { body: { user_id: 'carl' } })).body.key
    expect((await gateway.call('GET', '/user/info', { key: carlKey })).status).toBe(200)
    const deleted = await gateway.call('POST', '/user/delete', { body: { user_ids: ['bob', 'carl'] } })
    expect(deleted.status).toBe(200)
    expect(deleted.text).toBe('2')
    expect(deleted.headers.get('content-type')).toContain('application/json')
    expect(await gateway.store.repos.users.get('bob')).toBeNull()
    expect(await gateway.store.repos.keys.listByUser('bob')).toEqual([])
    expect(await gateway.store.repos.memberships.listByUser('bob')).toEqual([])
    expect(await gateway.store.repos.organizationMemberships.listByUser('bob')).toEqual([])
    expect((await gateway.store.repos.archive.deletedKeys({ userId: 'bob' })).map((k) => k.token)).toEqual([bobKey.token])
    const [copy] = await audit('bob', 'deleted')
    expect(copy).toMatchObject({ tableName: 'users', route: '/user/delete' })
    expect(copy.beforeValue).toMatchObject({ userId: 'bob', userEmail: 'bob@example.com' })
    expect(copy.beforeValue).not.toHaveProperty('passwordHash')
    expect((await audit('t-2:bob', 'deleted'))[0]).toMatchObject({ tableName: 'team_memberships' })
    expect((await audit('org-1:bob', 'deleted'))[0]).toMatchObject({ tableName: 'organization_memberships' })
    // The deleted user's key is refused at once.
    expect((await gateway.call('GET', '/user/info', { key: carlKey })).status).toBe(401)
  })

  test('/user/available_roles describes every global role', async () => {
    const roles = await gateway.call('GET', '/user/available_roles')
    expect(Object.keys(roles.body)).toEqual(['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'])
    expect(roles.body.proxy_admin).toEqual({ description: expect.any(String), ui_label: 'Admin (All Permissions)' })
  })
})
