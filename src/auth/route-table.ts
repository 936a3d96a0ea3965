/**
 * THE roles table (§4): every route of the app and which columns may reach it, deny by default. Reaching a
 * route is not the whole answer: the service then checks that the object is the caller's (their team, their
 * organization, their key) and which fields they may set. Columns:
 *
 * | PA proxy_admin | PV proxy_admin_viewer | OA org_admin (some org) | TA team admin (some team) |
 * | IU internal_user (team member) | IV internal_user_viewer |
 *
 * `denied` is the contract's 403 for a caller outside every column, where §5 names one.
 */
import type { Actor, RouteAccess } from './route-access'
import type { Principal } from './principal'

const PA: Actor = 'proxy_admin'
const PV: Actor = 'proxy_admin_viewer'
const OA: Actor = 'org_admin'
const TA: Actor = 'team_admin'
const IU: Actor = 'internal_user'
const IV: Actor = 'internal_user_viewer'

const EVERYONE = [PA, PV, OA, TA, IU, IV]
const ADMIN_READ = [PA, PV]
const ADMIN = [PA]
const PUBLIC = { who: 'public' } as const

const KEY_WRITERS = [PA, OA, TA, IU]
const TEAM_MANAGERS = [PA, OA, TA]

/** `/customer/…` and `/end_user/…` are the same routes. */
function customerRoutes(): Record<string, RouteAccess> {
  const routes: Record<string, RouteAccess> = {}
  for (const prefix of ['/customer', '/end_user']) {
    for (const action of ['new', 'update', 'delete', 'block', 'unblock']) routes[`POST ${prefix}/${action}`] = { who: ADMIN }
    routes[`GET ${prefix}/info`] = { who: ADMIN_READ }
    routes[`GET ${prefix}/list`] = { who: ADMIN_READ }
  }
  return routes
}

export const ROUTE_TABLE: Readonly<Record<string, RouteAccess>> = {
  // Public
  'GET /health/liveliness': PUBLIC,
  'GET /health/liveness': PUBLIC,
  'GET /health/readiness': PUBLIC,
  'GET /docs': PUBLIC,
  'GET /openapi.json': PUBLIC,

  // Teams (§5.1–5.2)
  'POST /team/new': { who: [PA, OA] },
  'POST /team/update': { who: TEAM_MANAGERS },
  'POST /team/delete': { who: [PA, OA] },
  'POST /team/block': { who: [PA, OA] },
  'POST /team/unblock': { who: [PA, OA] },
  'GET /team/info': { who: EVERYONE },
  'GET /team/list': { who: EVERYONE },
  'GET /v2/team/list': { who: EVERYONE },
  'GET /team/available': { who: EVERYONE },
  'GET /team/permissions_list': { who: EVERYONE },
  // Members: internal users reach member_add only to join an `available_teams` team themselves; the service
  // answers everyone else who is not this team's admin with the contract's 403.
  'POST /team/member_add': { who: [PA, OA, TA, IU] },
  'POST /team/member_delete': { who: [PA, OA, TA, IU] },
  'POST /team/member/delete': { who: [PA, OA, TA, IU] },
  'POST /team/member_update': { who: [PA, OA, TA, IU] },
  'POST /team/model/add': { who: [PA, OA, TA, IU], denied: 'Only proxy admin or team admin can modify team models' },
  'POST /team/model/delete': { who: [PA, OA, TA, IU], denied: 'Only proxy admin or team admin can modify team models' },
  'POST /team/permissions_update': { who: TEAM_MANAGERS },

  // Keys (§5.3)
  'POST /key/generate': { who: KEY_WRITERS },
  'POST /key/service-account/generate': { who: TEAM_MANAGERS },
  'POST /key/update': { who: KEY_WRITERS },
  'POST /key/delete': { who: KEY_WRITERS, denied: 'You are not authorized to delete this key' },
  'POST /key/regenerate': { who: KEY_WRITERS, denied: 'You are not authorized to regenerate this key' },
  'POST /key/:key/regenerate': { who: KEY_WRITERS, denied: 'You are not authorized to regenerate this key' },
  'POST /key/:key/reset_spend': { who: KEY_WRITERS, denied: 'You must be a proxy admin or team admin to reset key spend' },
  'POST /key/block': { who: ADMIN },
  'POST /key/unblock': { who: ADMIN },
  'POST /key/bulk_update': { who: ADMIN },
  'GET /key/info': { who: EVERYONE },
  'POST /v2/key/info': { who: EVERYONE },
  'GET /key/list': { who: EVERYONE },
  'POST /key/health': { who: EVERYONE },
  // Aliases of every key in the proxy: an admin view.
  'GET /key/aliases': { who: ADMIN_READ },

  // Users (§5.4)
  'POST /user/new': { who: [PA, OA] },
  'POST /user/update': { who: [PA, OA, IU, IV] },
  'POST /user/bulk_update': { who: ADMIN },
  'POST /user/delete': { who: ADMIN },
  'GET /user/info': { who: EVERYONE },
  'GET /v2/user/info': { who: EVERYONE },
  'GET /user/list': { who: [PA, PV, OA], denied: 'Only proxy admins and organization admins can list users.' },
  'GET /user/available_roles': { who: EVERYONE },

  // Organizations (§5.5)
  'POST /organization/new': { who: ADMIN, denied: (principal: Principal) => `Only admins can create orgs. Your role is = ${principal.role}` },
  'PATCH /organization/update': { who: ADMIN },
  'POST /organization/update': { who: ADMIN },
  'DELETE /organization/delete': { who: ADMIN },
  'GET /organization/info': { who: EVERYONE },
  'GET /organization/list': { who: EVERYONE },
  'POST /organization/member_add': { who: [PA, OA] },
  'PATCH /organization/member_update': { who: [PA, OA] },
  'DELETE /organization/member_delete': { who: [PA, OA] },

  // Budgets, customers, tags (§5.6–5.7)
  'POST /budget/new': { who: ADMIN },
  'POST /budget/update': { who: ADMIN },
  'POST /budget/delete': { who: ADMIN },
  'POST /budget/info': { who: ADMIN_READ },
  'GET /budget/list': { who: ADMIN_READ },
  'GET /budget/settings': { who: ADMIN_READ },
  ...customerRoutes(),
  'POST /tag/new': { who: ADMIN },
  'POST /tag/update': { who: ADMIN },
  'POST /tag/delete': { who: ADMIN },
  'POST /tag/info': { who: ADMIN_READ },
  'GET /tag/list': { who: ADMIN_READ },

  // Spend (§5.8): logs, the report and daily activity are scoped by the service (org, team, own keys).
  'GET /spend/logs': { who: EVERYONE },
  'GET /spend/logs/ui': { who: EVERYONE },
  'GET /global/spend/report': { who: EVERYONE },
  'GET /user/daily/activity': { who: EVERYONE },
  'GET /team/daily/activity': { who: EVERYONE },
  'GET /customer/daily/activity': { who: EVERYONE },
  'GET /tag/daily/activity': { who: EVERYONE },
  'GET /spend/tags': { who: ADMIN_READ },
  'GET /spend/keys': { who: ADMIN_READ },
  'GET /spend/users': { who: ADMIN_READ },
  'GET /global/spend': { who: ADMIN_READ },
  'GET /global/spend/keys': { who: ADMIN_READ },
  'GET /global/spend/teams': { who: ADMIN_READ },
  'GET /global/spend/models': { who: ADMIN_READ },
  'POST /global/spend/end_users': { who: ADMIN_READ },
  'GET /global/activity': { who: ADMIN_READ },
  'POST /global/spend/reset': { who: 'master_key' },
  // Reads only the configured prices.
  'POST /spend/calculate': { who: EVERYONE },

  // Models and the LLM routes (§5.9, §6): model access is decided per request.
  'GET /v1/models': { who: EVERYONE },
  'GET /models': { who: EVERYONE },
  'GET /v1/models/*': { who: EVERYONE },
  'GET /models/*': { who: EVERYONE },
  'GET /model/info': { who: EVERYONE },
  'GET /v1/model/info': { who: EVERYONE },
  'POST /v1/chat/completions': { who: EVERYONE },
  'POST /chat/completions': { who: EVERYONE },
  'POST /v1/completions': { who: EVERYONE },
  'POST /completions': { who: EVERYONE },
  'POST /v1/embeddings': { who: EVERYONE },
  'POST /embeddings': { who: EVERYONE },

  // Operations
  'GET /health': { who: ADMIN_READ },
  // Public instead when `require_auth_for_metrics_endpoint: false` (the route is then mounted without auth).
  'GET /metrics': { who: ADMIN },

  // The management change log (§4, §11): org admins see their organizations' rows.
  'GET /audit': { who: [PA, PV, OA] },
}
