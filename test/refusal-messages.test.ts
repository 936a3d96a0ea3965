/**
 * The contract's 403/404 messages for callers outside an object or a route (§3, §5), exactly.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from './engines'
import { startGateway, type TestGateway } from './gateway'
import { createRoleWorld, OTHER_TEAM, TEAM, type RoleWorld } from './roles'

describeEachEngine('refusal messages', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld

  beforeAll(async () => {
    gateway = await startGateway(engine)
    world = await createRoleWorld(gateway)
  })
  afterAll(() => gateway.close())

  async function errorOf(user: string, method: string, path: string, body?: unknown) {
    const response = await gateway.call(method, path, { key: world.keys[user], body })
    return { status: response.status, message: response.body.error?.message, type: response.body.error?.type }
  }
  const auth = (status: number, message: string) => ({ status, message, type: 'auth_error' })

  test('teams', async () => {
    // Whether the team exists or not, an outsider gets the same answer.
    expect(await errorOf('member', 'GET', `/team/info?team_id=${OTHER_TEAM}`)).toEqual(auth(403, `User=member not authorized to access this team=${OTHER_TEAM}`))
    expect(await errorOf('member', 'GET', '/team/info?team_id=no-such-team')).toEqual(auth(403, 'User=member not authorized to access this team=no-such-team'))
    expect(await errorOf('member', 'GET', '/team/list?user_id=outsider')).toEqual(auth(403, 'Only admin users can query all teams/other teams. Your user role=internal_user'))
    expect(await errorOf('member', 'POST', '/team/model/add', { team_id: TEAM, models: ['x'] })).toEqual(auth(403, 'Only proxy admin or team admin can modify team models'))
    expect(await errorOf('viewer', 'POST', '/team/model/add', { team_id: TEAM, models: ['x'] })).toEqual(auth(403, 'Only proxy admin or team admin can modify team models'))
    expect(await errorOf('team-admin', 'POST', '/team/member_add', { team_id: OTHER_TEAM, member: { user_id: 'x', role: 'user' } })).toEqual(
      auth(403, `Call not allowed. User not proxy admin OR team admin. route=/team/member_add, team_id=${OTHER_TEAM}`),
    )
    expect(await errorOf('team-admin', 'POST', '/team/update', { team_id: OTHER_TEAM, team_alias: 'x' })).toEqual({
      status: 404,
      message: `Team not found, passed team_id=${OTHER_TEAM}`,
      type: 'not_found_error',
    })
    expect(await errorOf('member', 'POST', '/team/new', {})).toEqual(auth(403, 'Admin-only endpoint. Not allowed to access this.'))
  })

  test('keys', async () => {
    const outsiders = (await world.admin('POST', '/key/generate', { user_id: 'outsider' })).key
    expect(await errorOf('member', 'GET', `/key/info?key=${outsiders}`)).toEqual({ status: 404, message: 'Key not found in database', type: 'not_found_error' })
    expect(await errorOf('member', 'POST', '/key/delete', { keys: [outsiders] })).toEqual({ status: 404, message: 'No keys found', type: 'not_found_error' })
    expect(await errorOf('viewer', 'POST', '/key/delete', { keys: [outsiders] })).toEqual(auth(403, 'You are not authorized to delete this key'))
    expect(await errorOf('viewer', 'POST', '/key/regenerate', { key: outsiders })).toEqual(auth(403, 'You are not authorized to regenerate this key'))
    expect(await errorOf('viewer', 'POST', '/key/generate', {})).toEqual(auth(403, 'Admin-only endpoint. Not allowed to access this.'))
    expect(await errorOf('member', 'POST', '/key/generate', { user_id: 'outsider' })).toEqual(auth(403, 'User can only create keys for themselves. Got user_id=outsider, Your ID=member'))
    expect(await errorOf('member', 'POST', '/key/block', { key: outsiders })).toEqual(auth(403, 'Admin-only endpoint. Not allowed to access this.'))
    expect(await errorOf('member', 'POST', '/global/spend/reset')).toEqual(auth(403, 'Tried to access route=/global/spend/reset, which is only for MASTER KEY'))
  })

  test('users and organizations', async () => {
    expect(await errorOf('team-admin', 'GET', '/user/list')).toEqual(auth(403, 'Only proxy admins and organization admins can list users.'))
    expect(await errorOf('member', 'POST', '/user/update', { user_id: 'member', user_role: 'proxy_admin' })).toEqual(auth(403, 'Only proxy admins can modify user roles.'))
    expect(await errorOf('member', 'POST', '/user/update', { user_id: 'no-such-user', user_alias: 'x' })).toEqual(
      auth(403, 'User does not have permission to update this user. Only PROXY_ADMIN can update other users.'),
    )
    expect(await errorOf('member', 'GET', '/user/info?user_id=outsider')).toEqual({ status: 404, message: 'User outsider not found', type: 'not_found_error' })
    expect(await errorOf('org-admin', 'POST', '/organization/new', { organization_alias: 'x' })).toEqual(auth(403, 'Only admins can create orgs. Your role is = internal_user'))
    expect(await errorOf('org-admin', 'POST', '/user/new', { user_role: 'proxy_admin' })).toEqual(
      auth(403, 'Only proxy admins can create administrative users (proxy_admin, proxy_admin_viewer)'),
    )
    expect(await errorOf('org-admin', 'GET', '/organization/info?organization_id=org-2')).toEqual({
      status: 404,
      message: 'Organization not found for organization_id=org-2',
      type: 'not_found_error',
    })
  })
})
