import { expect, test } from 'bun:test'
import { ApiError } from '../http/errors'
import { adminPrincipal, type Principal } from './principal'
import { actorsOf, checkRouteAccess, defineRouteAccess, routeRuleOf } from './route-access'

const user = (role: Principal['role'], teams: [string, 'admin' | 'user'][] = [], organizations: [string, string][] = []): Principal => ({
  kind: 'virtual_key',
  role,
  userId: 'u',
  keyHash: 'h',
  key: null,
  team: null,
  user: null,
  membership: null,
  relations: { teams: new Map(teams), organizations: new Map(organizations) },
})

function refusal(principal: Principal, method: string, route: string): string | null {
  try {
    checkRouteAccess(principal, method, route, route)
    return null
  } catch (error) {
    return error instanceof ApiError ? `${error.httpStatus} ${error.message}` : String(error)
  }
}

test('a route without a rule is refused to everyone, proxy admins included', () => {
  expect(refusal(adminPrincipal(), 'GET', '/not/in/the/table')).toBe('403 Route GET /not/in/the/table is not permitted.')
})

test('relationship roles come from memberships; viewers stay viewers whatever they administer', () => {
  expect([...actorsOf(user('internal_user', [['t', 'admin']], [['o', 'org_admin']]))].sort()).toEqual(['internal_user', 'org_admin', 'team_admin'])
  expect([...actorsOf(user('internal_user', [['t', 'user']]))]).toEqual(['internal_user'])
  expect([...actorsOf(user('internal_user_viewer', [['t', 'admin']], [['o', 'org_admin']]))]).toEqual(['internal_user_viewer'])
  expect(refusal(user('internal_user', [['t', 'admin']]), 'POST', '/team/update')).toBeNull()
  expect(refusal(user('internal_user_viewer', [['t', 'admin']]), 'POST', '/team/update')).toBe('403 Admin-only endpoint. Not allowed to access this.')
  expect(refusal(user('internal_user'), 'POST', '/team/update')).toBe('403 Admin-only endpoint. Not allowed to access this.')
  expect(refusal(user('internal_user', [], [['o', 'org_admin']]), 'GET', '/user/list')).toBeNull()
  expect(refusal(user('internal_user'), 'GET', '/user/list')).toBe('403 Only proxy admins and organization admins can list users.')
})

test('master-key routes refuse every other credential, admin users too', () => {
  expect(refusal(adminPrincipal(), 'POST', '/global/spend/reset')).toBeNull()
  expect(refusal(user('proxy_admin'), 'POST', '/global/spend/reset')).toBe('403 Tried to access route=/global/spend/reset, which is only for MASTER KEY')
})

test("a module cannot loosen the table's rule for a route it also registers", () => {
  defineRouteAccess({ 'POST /key/block': 'any', 'GET /module/extra': 'admin_read' })
  expect(routeRuleOf('POST', '/key/block')?.who).toEqual(['proxy_admin'])
  expect(routeRuleOf('GET', '/module/extra')?.who).toEqual(['proxy_admin', 'proxy_admin_viewer'])
})
