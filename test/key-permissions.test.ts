/**
 * What members may do with their team's keys (`team_member_permissions`), who may create keys at all
 * (`key_generation_settings`), what a key's own `allowed_routes` / `key_type` allow (narrowing only, on every
 * request, the data plane included), self-join through `available_teams`, and whose name an audit row carries.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from './engines'
import { startGateway, type TestGateway } from './gateway'
import { createRoleWorld, TEAM, type RoleWorld } from './roles'

describeEachEngine('team member permissions and key routes', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld

  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: { litellm_settings: { default_internal_user_params: { available_teams: ['open-team'] } } },
    })
    world = await createRoleWorld(gateway)
    await world.admin('POST', '/team/new', { team_id: 'open-team' })
  })
  afterAll(() => gateway.close())

  test('members call only the key routes their team lists; team admins are not limited by the list', async () => {
    const refused = await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { team_id: TEAM } })
    expect(refused.body.error).toEqual({
      message: `Team member does not have permissions for endpoint: /key/generate. You only have access to the following endpoints: ['/key/info', '/key/health'] for team ${TEAM}.`,
      type: 'team_member_permission_error',
      param: null,
      code: 403,
    })
    const byAdmin = (await gateway.call('POST', '/key/generate', { key: world.keys['team-admin'], body: { team_id: TEAM, user_id: 'team-admin' } })).body
    expect(byAdmin.team_id).toBe(TEAM)
    // The default list lets members read the team's keys, not change them.
    expect((await gateway.call('GET', `/key/info?key=${byAdmin.token}`, { key: world.keys.member })).status).toBe(200)
    const update = await gateway.call('POST', '/key/update', { key: world.keys.member, body: { key: byAdmin.token, key_alias: 'x' } })
    expect(update.body.error.type).toBe('team_member_permission_error')

    const badPermission = await gateway.call('POST', '/team/permissions_update', { key: world.keys['team-admin'], body: { team_id: TEAM, team_member_permissions: ['/team/delete'] } })
    expect(badPermission.status).toBe(400)
    const granted = await gateway.call('POST', '/team/permissions_update', {
      key: world.keys['team-admin'],
      body: { team_id: TEAM, team_member_permissions: ['/key/info', '/key/generate', '/key/update', '/key/{key}/reset_spend'] },
    })
    expect(granted.body.team_member_permissions).toEqual(['/key/info', '/key/generate', '/key/update', '/key/{key}/reset_spend'])
    const created = await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { team_id: TEAM } })
    expect(created.body).toMatchObject({ team_id: TEAM, user_id: 'member' })
    expect((await gateway.call('POST', '/key/update', { key: world.keys.member, body: { key: byAdmin.token, key_alias: 'renamed' } })).status).toBe(200)
    // Resetting spend stays with admins whatever the list says.
    const reset = await gateway.call('POST', `/key/${created.body.key}/reset_spend`, { key: world.keys.member, body: { reset_to: 0 } })
    expect(reset.body.error).toMatchObject({ code: 403, message: 'You must be a proxy admin or team admin to reset key spend' })
  })

  test("a key's key_type and allowed_routes narrow every request it makes, the LLM routes included", async () => {
    const llm = (await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { key_type: 'llm_api' } })).body
    const own = await gateway.call('GET', '/key/info', { key: llm.key })
    expect(own.body.error).toEqual({ message: "Key not allowed to access route=/key/info. Allowed routes=['llm_api_routes']", type: 'auth_error', param: null, code: 403 })
    const chat = await gateway.call('POST', '/v1/chat/completions', { key: llm.key, body: { model: 'none', messages: [{ role: 'user', content: 'hi' }] } })
    expect(chat.status).toBe(400)

    const infoOnly = (await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { allowed_routes: ['/key/info'] } })).body
    expect((await gateway.call('GET', '/key/info', { key: infoOnly.key })).status).toBe(200)
    const models = await gateway.call('GET', '/v1/models', { key: infoOnly.key })
    expect(models.body.error).toMatchObject({ code: 403, message: "Key not allowed to access route=/v1/models. Allowed routes=['/key/info']" })

    // Listing an admin route grants nothing.
    const grab = (await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { allowed_routes: ['/key/block', 'management_routes'] } })).body
    const blocked = await gateway.call('POST', '/key/block', { key: grab.key, body: { key: infoOnly.key } })
    expect(blocked.body.error).toMatchObject({ code: 403, message: 'Admin-only endpoint. Not allowed to access this.' })
  })

  test('an internal user joins an available team themselves, as a plain member, and nothing else', async () => {
    const other = await gateway.call('POST', '/team/member_add', { key: world.keys.outsider, body: { team_id: 'open-team', member: { user_id: 'member', role: 'user' } } })
    expect(other.body.error.message).toBe('Call not allowed. User not proxy admin OR team admin. route=/team/member_add, team_id=open-team')
    const promoted = await gateway.call('POST', '/team/member_add', { key: world.keys.outsider, body: { team_id: 'open-team', member: { user_id: 'outsider', role: 'admin' } } })
    expect(promoted.status).toBe(403)
    const joined = await gateway.call('POST', '/team/member_add', { key: world.keys.outsider, body: { team_id: 'open-team', member: { user_id: 'outsider', role: 'user' } } })
    expect(joined.body.members_with_roles).toEqual([expect.objectContaining({ user_id: 'outsider', role: 'user' })])
    const closed = await gateway.call('POST', '/team/member_add', { key: world.keys.outsider, body: { team_id: TEAM, member: { user_id: 'outsider', role: 'user' } } })
    expect(closed.status).toBe(403)
  })

  test('litellm-changed-by names the actor only when a proxy admin sends it', async () => {
    await gateway.call('POST', '/team/update', { body: { team_id: TEAM, team_alias: 'by header' }, headers: { 'litellm-changed-by': 'alice@corp' } })
    expect((await gateway.audit(TEAM, 'updated'))[0]).toMatchObject({ changedBy: 'alice@corp', changedByApiKey: null })
    await gateway.call('POST', '/team/update', { key: world.keys['team-admin'], body: { team_id: TEAM, team_alias: 'ignored' }, headers: { 'litellm-changed-by': 'mallory' } })
    const [row] = await gateway.audit(TEAM, 'updated')
    expect(row.changedBy).toBe('team-admin')
    expect(row.changedByApiKey).toMatch(/^[0-9a-f]{64}$/)
  })
})

describeEachEngine('key_generation_settings', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld

  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: {
        litellm_settings: {
          key_generation_settings: {
            team_key_generation: { allowed_team_member_roles: ['admin'], required_params: ['key_alias'] },
            personal_key_generation: { allowed_user_roles: ['proxy_admin'] },
          },
        },
      },
    })
    world = await createRoleWorld(gateway, { team_member_permissions: ['/key/info', '/key/generate'] })
  })
  afterAll(() => gateway.close())

  test('restricts who creates team and personal keys, and which fields they must send', async () => {
    const personal = await gateway.call('POST', '/key/generate', { key: world.keys.member, body: {} })
    expect(personal.body.error).toMatchObject({
      code: 400,
      message: "Personal key creation has been restricted by admin. Allowed roles=['proxy_admin']. Your role=internal_user",
    })
    const asMember = await gateway.call('POST', '/key/generate', { key: world.keys.member, body: { team_id: TEAM, key_alias: 'a' } })
    expect(asMember.body.error).toMatchObject({ code: 400, message: "Team member role user not in allowed_team_member_roles=['admin']" })
    const noAlias = await gateway.call('POST', '/key/generate', { key: world.keys['team-admin'], body: { team_id: TEAM } })
    expect(noAlias.body.error).toMatchObject({ code: 400, message: 'Required param key_alias not in data' })
    const ok = await gateway.call('POST', '/key/generate', { key: world.keys['team-admin'], body: { team_id: TEAM, key_alias: 'team-key' } })
    expect(ok.status).toBe(200)
    // Proxy admins are not restricted by the settings.
    expect((await gateway.call('POST', '/key/generate', { body: {} })).status).toBe(200)
  })
})
