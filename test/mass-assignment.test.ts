/**
 * Field-level checks (§4, §12 #20): callers other than proxy admins cannot set admin-only fields, raise their
 * own budget or role, exceed their owner's ceilings (on generate and update alike) or move a key into a team
 * its user is not in. Every refusal is a 403 naming the field, and nothing is written: no row, no audit row.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from './engines'
import { startGateway, type TestGateway } from './gateway'
import { createRoleWorld, TEAM, type RoleWorld } from './roles'

describeEachEngine('mass assignment', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld

  beforeAll(async () => {
    gateway = await startGateway(engine)
    // The team caps its keys: budget 10, 100 tpm, only llama3; members may create team keys.
    world = await createRoleWorld(gateway, {
      max_budget: 10,
      tpm_limit: 100,
      models: ['llama3'],
      team_member_permissions: ['/key/info', '/key/generate', '/key/update'],
    })
    await world.admin('POST', '/user/update', { user_id: 'member', max_budget: 5 })
  })
  afterAll(() => gateway.close())

  /** Calls as `user`, expects a 403 whose message names `field`, and checks that no audit row was written. */
  async function refused(user: string, path: string, body: Record<string, unknown>, field: string) {
    const before = await world.auditCount()
    const response = await gateway.call('POST', path, { key: world.keys[user], body })
    expect({ path, field, status: response.status, type: response.body.error?.type }).toEqual({ path, field, status: 403, type: 'auth_error' })
    expect(response.body.error.message).toContain(field)
    expect(await world.auditCount()).toBe(before)
    return response.body.error.message as string
  }

  test('a member creating a key cannot set spend, blocked, a budget tier, another owner, or limits above the owner', async () => {
    await world.admin('POST', '/budget/new', { budget_id: 'generous', max_budget: 1000 })
    const cases: [Record<string, unknown>, string][] = [
      [{ spend: 5 }, 'spend'],
      [{ blocked: true }, 'blocked'],
      [{ budget_id: 'generous' }, 'budget_id'],
      [{ organization_id: 'org-2' }, 'organization_id'],
      [{ temp_budget_increase: 100, temp_budget_expiry: '2030-01-01T00:00:00Z' }, 'temp_budget_increase'],
      [{ max_budget: 6 }, 'max_budget'],
      [{ team_id: TEAM, max_budget: 11 }, 'max_budget'],
      [{ team_id: TEAM, tpm_limit: 101 }, 'tpm_limit'],
      [{ team_id: TEAM, model_tpm_limit: { llama3: 500 } }, 'model_tpm_limit'],
      [{ team_id: TEAM, models: ['gpt-4o'] }, 'models'],
      // An alias is as good as its target (§6.2): it may not point outside the team's models either.
      [{ team_id: TEAM, aliases: { llama3: 'gpt-4o' } }, 'aliases'],
      [{ team_id: TEAM, user_id: null }, 'user_id'],
    ]
    for (const [body, field] of cases) await refused('member', '/key/generate', { ...body, key_alias: `refused-${field}` }, field)
    const outsidersKeys = async () => (await gateway.store.repos.keys.list({ userId: 'outsider' }, { offset: 0, limit: 10 })).total
    const before = await outsidersKeys()
    const message = await refused('member', '/key/generate', { user_id: 'outsider' }, 'user_id')
    expect(message).toBe('User can only create keys for themselves. Got user_id=outsider, Your ID=member')
    expect(await outsidersKeys()).toBe(before)
    expect(await gateway.store.repos.keys.getByAlias('refused-spend')).toBeNull()
    // Within the ceilings the same member may create the key.
    const within = await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { team_id: TEAM, max_budget: 10, tpm_limit: 100, models: ['llama3'] } })
    expect(within.status).toBe(200)
    expect(within.body).toMatchObject({ user_id: 'member', team_id: TEAM, max_budget: 10 })
  })

  test('the same ceilings hold on /key/update, and nothing changes when one is refused', async () => {
    const key = (await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { team_id: TEAM, max_budget: 2 } })).body
    for (const [body, field] of [
      [{ max_budget: 50 }, 'max_budget'],
      [{ max_budget: null }, 'max_budget'],
      [{ models: ['gpt-4o'] }, 'models'],
      [{ spend: 0.5 }, 'spend'],
      [{ blocked: true }, 'blocked'],
      [{ budget_duration: '1d' }, 'budget_duration'],
      [{ user_id: 'outsider' }, 'user=outsider'],
      [{ team_id: null }, 'team_id'],
    ] as const) {
      await refused('member', '/key/update', { key: key.key, ...body }, field)
    }
    const row = (await gateway.store.repos.keys.get(key.token))!
    expect({ maxBudget: row.maxBudget, models: row.models, blocked: row.blocked, userId: row.userId }).toEqual({ maxBudget: 2, models: [], blocked: false, userId: 'member' })
    const lowered = await gateway.call('POST', '/key/update', { key: world.keys.member, body: { key: key.key, max_budget: 1 } })
    expect(lowered.body.max_budget).toBe(1)
  })

  test('a key cannot move into a team its user does not belong to, or that the caller cannot see', async () => {
    const personal = (await gateway.call('POST', '/key/generate', { key: world.keys.member, body: {} })).body
    const hidden = await gateway.call('POST', '/key/update', { key: world.keys.member, body: { key: personal.key, team_id: 'team-2' } })
    expect(hidden.body.error).toMatchObject({ code: 404, message: 'Team not found, passed team_id=team-2' })
    const outsiders = (await gateway.call('POST', '/key/generate', { body: { user_id: 'outsider' } })).body
    const moved = await gateway.call('POST', '/key/update', { body: { key: outsiders.key, team_id: TEAM } })
    expect(moved.body.error).toMatchObject({ code: 403, message: `User=outsider is not a member of the team=${TEAM}. Check team members via \`/team/info\`.` })
    expect((await gateway.store.repos.keys.get(outsiders.token))!.teamId).toBeNull()
  })

  test('nobody raises their own budget or role: a user changes only their alias, email, password and metadata', async () => {
    expect(await refused('member', '/user/update', { user_id: 'member', user_role: 'proxy_admin' }, 'Only proxy admins can modify user roles.')).toBe(
      'Only proxy admins can modify user roles.',
    )
    for (const [body, field] of [
      [{ max_budget: 1000 }, 'max_budget'],
      [{ max_budget: null }, 'max_budget'],
      [{ spend: 0 }, 'spend'],
      [{ models: ['gpt-4o'] }, 'models'],
      [{ tpm_limit: 10 }, 'tpm_limit'],
    ] as const) {
      await refused('member', '/user/update', { user_id: 'member', ...body }, field)
    }
    const other = await refused('member', '/user/update', { user_id: 'outsider', user_alias: 'x' }, 'update')
    expect(other).toBe('User does not have permission to update this user. Only PROXY_ADMIN can update other users.')
    const user = (await gateway.store.repos.users.get('member'))!
    expect({ role: user.userRole, maxBudget: user.maxBudget }).toEqual({ role: 'internal_user', maxBudget: 5 })
    const renamed = await gateway.call('POST', '/user/update', { key: world.keys.member, body: { user_id: 'member', user_alias: 'Me', metadata: { a: 1 } } })
    expect(renamed.body).toMatchObject({ user_alias: 'Me', metadata: { a: 1 } })
  })

  test('a team admin keeps or lowers the team limits, and does not move, block or restart it', async () => {
    for (const [body, field] of [
      [{ max_budget: 20 }, 'max_budget'],
      [{ max_budget: null }, 'max_budget'],
      [{ tpm_limit: 1000 }, 'tpm_limit'],
      [{ blocked: true }, 'blocked'],
      [{ organization_id: 'org-2' }, 'organization_id'],
      [{ budget_duration: '1d' }, 'budget_duration'],
      [{ spend: 5 }, 'spend'],
    ] as const) {
      await refused('team-admin', '/team/update', { team_id: TEAM, ...body }, field)
    }
    const team = (await gateway.store.repos.teams.get(TEAM))!
    expect({ maxBudget: team.maxBudget, tpmLimit: team.tpmLimit, blocked: team.blocked }).toEqual({ maxBudget: 10, tpmLimit: 100, blocked: false })
    const kept = await gateway.call('POST', '/team/update', { key: world.keys['team-admin'], body: { team_id: TEAM, max_budget: 10, tpm_limit: 90, team_alias: 'Renamed' } })
    expect(kept.status).toBe(200)
    expect(kept.body.data).toMatchObject({ max_budget: 10, tpm_limit: 90, team_alias: 'Renamed' })
    const [audit] = await gateway.audit(TEAM, 'updated')
    expect(audit).toMatchObject({ changedBy: 'team-admin', route: '/team/update', organizationId: 'org-1' })
  })

  test('nobody changes their own team membership; a member cannot manage members', async () => {
    await refused('team-admin', '/team/member_update', { team_id: TEAM, user_id: 'team-admin', max_budget_in_team: 1000 }, 'max_budget_in_team')
    const before = await world.auditCount()
    const promoted = await gateway.call('POST', '/team/member_update', { key: world.keys.member, body: { team_id: TEAM, user_id: 'member', role: 'admin' } })
    expect(promoted.body.error).toEqual({
      message: `Call not allowed. User not proxy admin OR team admin. route=/team/member_update, team_id=${TEAM}`,
      type: 'auth_error',
      param: null,
      code: 403,
    })
    expect((await gateway.store.repos.memberships.get({ userId: 'member', teamId: TEAM }))!.role).toBe('user')
    expect(await world.auditCount()).toBe(before)
  })

  test('an org admin creates teams in their own organization only, within their own limits, and becomes their admin', async () => {
    await world.admin('POST', '/user/update', { user_id: 'org-admin', tpm_limit: 50 })
    await refused('org-admin', '/team/new', { team_id: 'elsewhere', organization_id: 'org-2' }, 'organization_id')
    const over = await gateway.call('POST', '/team/new', { key: world.keys['org-admin'], body: { team_id: 'too-fast', tpm_limit: 60 } })
    expect(over.body.error).toMatchObject({ code: 400, message: 'tpm limit higher than user max. User tpm limit=50' })
    const created = await gateway.call('POST', '/team/new', { key: world.keys['org-admin'], body: { team_id: 'org-team', tpm_limit: 50 } })
    expect(created.body).toMatchObject({ team_id: 'org-team', organization_id: 'org-1', members_with_roles: [{ user_id: 'org-admin', role: 'admin' }] })
    expect(await gateway.store.repos.teams.get('too-fast')).toBeNull()
    expect(await gateway.store.repos.teams.get('elsewhere')).toBeNull()
  })
})
