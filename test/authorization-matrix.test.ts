/**
 * §4's roles table, route by route: every route of the app, called by every role on an object of their own and
 * on someone else's, on both engines, with the exact status. A change that succeeds leaves an audit row naming
 * its route; a refused one leaves no audit row at all.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { routeRuleOf } from '../src/auth/route-access'
import { describeEachEngine } from './engines'
import { startGateway, type TestGateway } from './gateway'

const ROLES = ['PA', 'PV', 'OA', 'TA', 'IU', 'IV'] as const
type Role = (typeof ROLES)[number]
type Variant = 'own' | 'other'
type Call = { method: string; path: string; body?: unknown }
/** Statuses in ROLES order: proxy_admin, proxy_admin_viewer, org_admin, team admin, team member, internal_user_viewer. */
type Statuses = readonly [number, number, number, number, number, number]
type Case = { route: string; call: (w: World, role: Role, variant: Variant) => Promise<Call>; own: Statuses; other?: Statuses }

const USER_OF: Record<Role, string> = { PA: 'u-pa', PV: 'u-pv', OA: 'u-oa', TA: 'u-ta', IU: 'u-iu', IV: 'u-iv' }
const OWN_ORG = 'org-own'
const OTHER_ORG = 'org-other'
const OWN_TEAM = 'team-own'
const OTHER_TEAM = 'team-other'
const DATES = 'start_date=2026-01-01&end_date=2026-01-31'

const all = (status: number): Statuses => [status, status, status, status, status, status]
const ADMIN_WRITE: Statuses = [200, 403, 403, 403, 403, 403]
const ADMIN_READ: Statuses = [200, 200, 403, 403, 403, 403]

type World = {
  gateway: TestGateway
  keys: Record<Role, string>
  admin(method: string, path: string, body?: unknown): Promise<any>
  fresh(prefix: string): string
}

/** A team of its own for a case: in the caller's organization with its admin and members, or in the other one. */
async function freshTeam(w: World, variant: Variant) {
  const teamId = w.fresh('team')
  const extra = w.fresh('extra')
  const members =
    variant === 'own'
      ? [{ user_id: 'u-ta', role: 'admin' }, { user_id: 'u-iu', role: 'user' }, { user_id: 'u-iv', role: 'user' }, { user_id: extra, role: 'user' }]
      : [{ user_id: 'u-x', role: 'user' }, { user_id: extra, role: 'user' }]
  await w.admin('POST', '/team/new', { team_id: teamId, organization_id: variant === 'own' ? OWN_ORG : OTHER_ORG, members_with_roles: members })
  return { teamId, extra }
}

/**
 * A key of its own for a case. Own: the caller's personal key; for org and team admins, a key of their team
 * (owned by a member). Other: a member's key in the other organization's team.
 */
async function freshKey(w: World, role: Role, variant: Variant): Promise<string> {
  const body =
    variant === 'other'
      ? { team_id: OTHER_TEAM, user_id: 'u-x' }
      : role === 'OA' || role === 'TA'
        ? { team_id: OWN_TEAM, user_id: 'u-iu' }
        : { user_id: USER_OF[role] }
  return (await w.admin('POST', '/key/generate', body)).key
}

async function freshOrgMember(w: World, variant: Variant) {
  const userId = w.fresh('member')
  const organizationId = variant === 'own' ? OWN_ORG : OTHER_ORG
  await w.admin('POST', '/organization/member_add', { organization_id: organizationId, member: { user_id: userId, role: 'internal_user' } })
  return { organization_id: organizationId, user_id: userId }
}

const teamOf = (variant: Variant) => (variant === 'own' ? OWN_TEAM : OTHER_TEAM)
const orgOf = (variant: Variant) => (variant === 'own' ? OWN_ORG : OTHER_ORG)
const userFor = (role: Role, variant: Variant) => (variant === 'own' ? USER_OF[role] : 'u-x')

const fixed = (method: string, path: string, body?: unknown) => async (): Promise<Call> => ({ method, path, body })

const CASES: Case[] = [
  // Teams
  { route: 'POST /team/new', call: async (w, _r, v) => ({ method: 'POST', path: '/team/new', body: { team_id: w.fresh('team'), organization_id: orgOf(v) } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 403, 403, 403, 403] },
  { route: 'POST /team/update', call: async (w, _r, v) => ({ method: 'POST', path: '/team/update', body: { team_id: (await freshTeam(w, v)).teamId, team_alias: 'renamed' } }), own: [200, 403, 200, 200, 403, 403], other: [200, 403, 404, 404, 403, 403] },
  { route: 'POST /team/delete', call: async (w, _r, v) => ({ method: 'POST', path: '/team/delete', body: { team_ids: [(await freshTeam(w, v)).teamId] } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },
  { route: 'POST /team/block', call: async (w, _r, v) => ({ method: 'POST', path: '/team/block', body: { team_id: (await freshTeam(w, v)).teamId } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },
  { route: 'POST /team/unblock', call: async (w, _r, v) => ({ method: 'POST', path: '/team/unblock', body: { team_id: (await freshTeam(w, v)).teamId } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },
  { route: 'GET /team/info', call: async (_w, _r, v) => ({ method: 'GET', path: `/team/info?team_id=${teamOf(v)}` }), own: all(200), other: [200, 200, 403, 403, 403, 403] },
  { route: 'GET /team/list', call: async (_w, _r, v) => ({ method: 'GET', path: v === 'own' ? '/team/list' : '/team/list?user_id=u-x' }), own: all(200), other: [200, 200, 403, 403, 403, 403] },
  { route: 'GET /v2/team/list', call: async (_w, _r, v) => ({ method: 'GET', path: v === 'own' ? '/v2/team/list' : '/v2/team/list?user_id=u-x' }), own: all(200), other: [200, 200, 403, 403, 403, 403] },
  { route: 'GET /team/available', call: fixed('GET', '/team/available'), own: all(200) },
  { route: 'GET /team/permissions_list', call: async (_w, _r, v) => ({ method: 'GET', path: `/team/permissions_list?team_id=${teamOf(v)}` }), own: all(200), other: [200, 200, 404, 404, 404, 404] },
  ...['member_add', 'member_delete', 'member/delete', 'member_update'].map(
    (action): Case => ({
      route: `POST /team/${action}`,
      call: async (w, _r, v) => {
        const { teamId, extra } = await freshTeam(w, v)
        const body =
          action === 'member_add'
            ? { team_id: teamId, member: { user_id: w.fresh('new'), role: 'user' } }
            : action === 'member_update'
              ? { team_id: teamId, user_id: extra, role: 'admin' }
              : { team_id: teamId, user_id: extra }
        return { method: 'POST', path: `/team/${action}`, body }
      },
      own: [200, 403, 200, 200, 403, 403],
      other: [200, 403, 403, 403, 403, 403],
    }),
  ),
  ...['add', 'delete'].map(
    (action): Case => ({
      route: `POST /team/model/${action}`,
      call: async (w, _r, v) => ({ method: 'POST', path: `/team/model/${action}`, body: { team_id: (await freshTeam(w, v)).teamId, models: ['m2'] } }),
      own: [200, 403, 200, 200, 403, 403],
      other: [200, 403, 404, 404, 404, 403],
    }),
  ),
  { route: 'POST /team/permissions_update', call: async (w, _r, v) => ({ method: 'POST', path: '/team/permissions_update', body: { team_id: (await freshTeam(w, v)).teamId, team_member_permissions: ['/key/info'] } }), own: [200, 403, 200, 200, 403, 403], other: [200, 403, 404, 404, 403, 403] },

  // Keys
  {
    route: 'POST /key/generate',
    call: async (_w, r, v) => ({ method: 'POST', path: '/key/generate', body: v === 'other' ? { user_id: 'u-x' } : r === 'OA' || r === 'TA' ? { team_id: OWN_TEAM } : {} }),
    own: [200, 403, 200, 200, 200, 403],
    other: [200, 403, 403, 403, 403, 403],
  },
  { route: 'POST /key/service-account/generate', call: async (_w, _r, v) => ({ method: 'POST', path: '/key/service-account/generate', body: { team_id: teamOf(v) } }), own: [200, 403, 200, 200, 403, 403], other: [200, 403, 404, 404, 403, 403] },
  { route: 'POST /key/update', call: async (w, r, v) => ({ method: 'POST', path: '/key/update', body: { key: await freshKey(w, r, v), key_alias: w.fresh('alias') } }), own: [200, 403, 200, 200, 200, 403], other: [200, 403, 404, 404, 404, 403] },
  { route: 'POST /key/delete', call: async (w, r, v) => ({ method: 'POST', path: '/key/delete', body: { keys: [await freshKey(w, r, v)] } }), own: [200, 403, 200, 200, 200, 403], other: [200, 403, 404, 404, 404, 403] },
  { route: 'POST /key/regenerate', call: async (w, r, v) => ({ method: 'POST', path: '/key/regenerate', body: { key: await freshKey(w, r, v) } }), own: [200, 403, 200, 200, 200, 403], other: [200, 403, 404, 404, 404, 403] },
  { route: 'POST /key/:key/regenerate', call: async (w, r, v) => ({ method: 'POST', path: `/key/${await freshKey(w, r, v)}/regenerate`, body: {} }), own: [200, 403, 200, 200, 200, 403], other: [200, 403, 404, 404, 404, 403] },
  { route: 'POST /key/:key/reset_spend', call: async (w, r, v) => ({ method: 'POST', path: `/key/${await freshKey(w, r, v)}/reset_spend`, body: { reset_to: 0 } }), own: [200, 403, 200, 200, 403, 403], other: [200, 403, 404, 404, 404, 403] },
  { route: 'POST /key/block', call: async (w, r, v) => ({ method: 'POST', path: '/key/block', body: { key: await freshKey(w, r, v) } }), own: ADMIN_WRITE },
  { route: 'POST /key/unblock', call: async (w, r, v) => ({ method: 'POST', path: '/key/unblock', body: { key: await freshKey(w, r, v) } }), own: ADMIN_WRITE },
  { route: 'POST /key/bulk_update', call: async (w, r, v) => ({ method: 'POST', path: '/key/bulk_update', body: { keys: [{ key: await freshKey(w, r, v), key_alias: w.fresh('alias') }] } }), own: ADMIN_WRITE },
  { route: 'GET /key/info', call: async (w, r, v) => ({ method: 'GET', path: `/key/info?key=${await freshKey(w, r, v)}` }), own: all(200), other: [200, 200, 404, 404, 404, 404] },
  { route: 'POST /v2/key/info', call: async (w, r, v) => ({ method: 'POST', path: '/v2/key/info', body: { keys: [await freshKey(w, r, v)] } }), own: all(200) },
  { route: 'GET /key/list', call: async (_w, _r, v) => ({ method: 'GET', path: v === 'own' ? '/key/list' : '/key/list?user_id=u-x' }), own: all(200) },
  { route: 'GET /key/aliases', call: fixed('GET', '/key/aliases'), own: ADMIN_READ },
  { route: 'POST /key/health', call: fixed('POST', '/key/health'), own: all(200) },

  // Users
  { route: 'POST /user/new', call: async (w, _r, v) => ({ method: 'POST', path: '/user/new', body: { user_id: w.fresh('new'), auto_create_key: false, ...(v === 'other' ? { organizations: [OTHER_ORG] } : {}) } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 403, 403, 403, 403] },
  { route: 'POST /user/update', call: async (_w, r, v) => ({ method: 'POST', path: '/user/update', body: { user_id: userFor(r, v), user_alias: 'renamed' } }), own: [200, 403, 200, 200, 200, 200], other: [200, 403, 403, 403, 403, 403] },
  { route: 'POST /user/bulk_update', call: async (_w, r, v) => ({ method: 'POST', path: '/user/bulk_update', body: { users: [{ user_id: userFor(r, v), user_alias: 'renamed' }] } }), own: ADMIN_WRITE },
  { route: 'POST /user/delete', call: async (w) => ({ method: 'POST', path: '/user/delete', body: { user_ids: [(await w.admin('POST', '/user/new', { auto_create_key: false })).user_id] } }), own: ADMIN_WRITE },
  { route: 'GET /user/info', call: async (_w, r, v) => ({ method: 'GET', path: `/user/info?user_id=${userFor(r, v)}` }), own: all(200), other: [200, 200, 404, 404, 404, 404] },
  { route: 'GET /v2/user/info', call: async (_w, r, v) => ({ method: 'GET', path: `/v2/user/info?user_id=${userFor(r, v)}` }), own: all(200), other: [200, 200, 404, 404, 404, 404] },
  { route: 'GET /user/list', call: async (_w, _r, v) => ({ method: 'GET', path: v === 'own' ? '/user/list' : `/user/list?organization_ids=${OTHER_ORG}` }), own: [200, 200, 200, 403, 403, 403] },
  { route: 'GET /user/available_roles', call: fixed('GET', '/user/available_roles'), own: all(200) },

  // Organizations
  { route: 'POST /organization/new', call: fixed('POST', '/organization/new', { organization_alias: 'New' }), own: ADMIN_WRITE },
  { route: 'PATCH /organization/update', call: async (_w, _r, v) => ({ method: 'PATCH', path: '/organization/update', body: { organization_id: orgOf(v), organization_alias: 'Renamed' } }), own: ADMIN_WRITE },
  { route: 'POST /organization/update', call: async (_w, _r, v) => ({ method: 'POST', path: '/organization/update', body: { organization_id: orgOf(v), organization_alias: 'Renamed' } }), own: ADMIN_WRITE },
  { route: 'DELETE /organization/delete', call: async (w) => ({ method: 'DELETE', path: '/organization/delete', body: { organization_ids: [(await w.admin('POST', '/organization/new', { organization_alias: 'Empty' })).organization_id] } }), own: ADMIN_WRITE },
  { route: 'GET /organization/info', call: async (_w, _r, v) => ({ method: 'GET', path: `/organization/info?organization_id=${orgOf(v)}` }), own: all(200), other: [200, 200, 404, 404, 404, 404] },
  { route: 'GET /organization/list', call: fixed('GET', '/organization/list'), own: all(200) },
  { route: 'POST /organization/member_add', call: async (w, _r, v) => ({ method: 'POST', path: '/organization/member_add', body: { organization_id: orgOf(v), member: { user_id: w.fresh('new'), role: 'internal_user' } } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },
  { route: 'PATCH /organization/member_update', call: async (w, _r, v) => ({ method: 'PATCH', path: '/organization/member_update', body: { ...(await freshOrgMember(w, v)), role: 'internal_user_viewer' } }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },
  { route: 'DELETE /organization/member_delete', call: async (w, _r, v) => ({ method: 'DELETE', path: '/organization/member_delete', body: await freshOrgMember(w, v) }), own: [200, 403, 200, 403, 403, 403], other: [200, 403, 404, 403, 403, 403] },

  // Budgets, customers, tags
  { route: 'POST /budget/new', call: async (w) => ({ method: 'POST', path: '/budget/new', body: { budget_id: w.fresh('budget'), max_budget: 1 } }), own: ADMIN_WRITE },
  { route: 'POST /budget/update', call: async (w) => ({ method: 'POST', path: '/budget/update', body: { budget_id: (await w.admin('POST', '/budget/new', { max_budget: 1 })).budget_id, max_budget: 2 } }), own: ADMIN_WRITE },
  { route: 'POST /budget/delete', call: async (w) => ({ method: 'POST', path: '/budget/delete', body: { id: (await w.admin('POST', '/budget/new', { max_budget: 1 })).budget_id } }), own: ADMIN_WRITE },
  { route: 'POST /budget/info', call: async (w) => ({ method: 'POST', path: '/budget/info', body: { budgets: [(await w.admin('POST', '/budget/new', { max_budget: 1 })).budget_id] } }), own: ADMIN_READ },
  { route: 'GET /budget/list', call: fixed('GET', '/budget/list'), own: ADMIN_READ },
  { route: 'GET /budget/settings', call: async (w) => ({ method: 'GET', path: `/budget/settings?budget_id=${(await w.admin('POST', '/budget/new', { max_budget: 1 })).budget_id}` }), own: ADMIN_READ },
  ...['/customer', '/end_user'].flatMap((prefix): Case[] => {
    const customer = async (w: World) => (await w.admin('POST', `${prefix}/new`, { user_id: w.fresh('customer') })).user_id as string
    return [
      { route: `POST ${prefix}/new`, call: async (w) => ({ method: 'POST', path: `${prefix}/new`, body: { user_id: w.fresh('customer') } }), own: ADMIN_WRITE },
      { route: `POST ${prefix}/update`, call: async (w) => ({ method: 'POST', path: `${prefix}/update`, body: { user_id: await customer(w), alias: 'renamed' } }), own: ADMIN_WRITE },
      { route: `POST ${prefix}/delete`, call: async (w) => ({ method: 'POST', path: `${prefix}/delete`, body: { user_ids: [await customer(w)] } }), own: ADMIN_WRITE },
      { route: `POST ${prefix}/block`, call: async (w) => ({ method: 'POST', path: `${prefix}/block`, body: { user_ids: [await customer(w)] } }), own: ADMIN_WRITE },
      {
        route: `POST ${prefix}/unblock`,
        call: async (w) => {
          const blocked = await customer(w)
          await w.admin('POST', `${prefix}/block`, { user_ids: [blocked] })
          return { method: 'POST', path: `${prefix}/unblock`, body: { user_ids: [blocked] } }
        },
        own: ADMIN_WRITE,
      },
      { route: `GET ${prefix}/info`, call: async (w) => ({ method: 'GET', path: `${prefix}/info?end_user_id=${await customer(w)}` }), own: ADMIN_READ },
      { route: `GET ${prefix}/list`, call: fixed('GET', `${prefix}/list`), own: ADMIN_READ },
    ]
  }),
  { route: 'POST /tag/new', call: async (w) => ({ method: 'POST', path: '/tag/new', body: { name: w.fresh('tag') } }), own: ADMIN_WRITE },
  { route: 'POST /tag/update', call: async (w) => ({ method: 'POST', path: '/tag/update', body: { name: (await w.admin('POST', '/tag/new', { name: w.fresh('tag') })).name, description: 'd' } }), own: ADMIN_WRITE },
  { route: 'POST /tag/delete', call: async (w) => ({ method: 'POST', path: '/tag/delete', body: { name: (await w.admin('POST', '/tag/new', { name: w.fresh('tag') })).name } }), own: ADMIN_WRITE },
  { route: 'POST /tag/info', call: fixed('POST', '/tag/info', { names: ['none'] }), own: ADMIN_READ },
  { route: 'GET /tag/list', call: fixed('GET', '/tag/list'), own: ADMIN_READ },

  // Spend: logs, the report and daily activity are scoped, so everyone may ask.
  { route: 'GET /spend/logs', call: async (_w, _r, v) => ({ method: 'GET', path: v === 'own' ? '/spend/logs' : '/spend/logs?user_id=u-x' }), own: all(200) },
  { route: 'GET /spend/logs/ui', call: fixed('GET', '/spend/logs/ui'), own: all(200) },
  { route: 'GET /global/spend/report', call: fixed('GET', `/global/spend/report?${DATES}`), own: all(200) },
  { route: 'GET /user/daily/activity', call: fixed('GET', `/user/daily/activity?${DATES}`), own: all(200) },
  { route: 'GET /team/daily/activity', call: fixed('GET', `/team/daily/activity?${DATES}`), own: all(200) },
  { route: 'GET /customer/daily/activity', call: fixed('GET', `/customer/daily/activity?${DATES}`), own: all(200) },
  { route: 'GET /tag/daily/activity', call: fixed('GET', `/tag/daily/activity?${DATES}`), own: all(200) },
  { route: 'GET /spend/tags', call: fixed('GET', '/spend/tags'), own: ADMIN_READ },
  { route: 'GET /spend/keys', call: fixed('GET', '/spend/keys'), own: ADMIN_READ },
  { route: 'GET /spend/users', call: fixed('GET', '/spend/users'), own: ADMIN_READ },
  { route: 'GET /global/spend', call: fixed('GET', '/global/spend'), own: ADMIN_READ },
  { route: 'GET /global/spend/keys', call: fixed('GET', '/global/spend/keys'), own: ADMIN_READ },
  { route: 'GET /global/spend/teams', call: fixed('GET', '/global/spend/teams'), own: ADMIN_READ },
  { route: 'GET /global/spend/models', call: fixed('GET', '/global/spend/models'), own: ADMIN_READ },
  { route: 'POST /global/spend/end_users', call: fixed('POST', '/global/spend/end_users', {}), own: ADMIN_READ },
  { route: 'GET /global/activity', call: fixed('GET', `/global/activity?${DATES}`), own: ADMIN_READ },
  // Only the master key itself: even a proxy admin's virtual key is refused.
  { route: 'POST /global/spend/reset', call: fixed('POST', '/global/spend/reset'), own: all(403) },
  { route: 'POST /spend/calculate', call: fixed('POST', '/spend/calculate', { completion_response: { model: 'priced', usage: { prompt_tokens: 1, completion_tokens: 1 } } }), own: all(200) },

  // Operations and the change log
  { route: 'GET /metrics', call: fixed('GET', '/metrics'), own: [200, 403, 403, 403, 403, 403] },
  { route: 'GET /health', call: fixed('GET', '/health'), own: ADMIN_READ },
  { route: 'GET /audit', call: fixed('GET', '/audit'), own: [200, 200, 200, 403, 403, 403] },

  // Models and the LLM routes: every role reaches them (model access is decided per request).
  ...['/v1/models', '/models', '/model/info', '/v1/model/info'].map((path): Case => ({ route: `GET ${path}`, call: fixed('GET', path), own: all(200) })),
  ...['/v1/models/*', '/models/*'].map((route): Case => ({ route: `GET ${route}`, call: fixed('GET', route.replace('*', 'no-such-model')), own: all(404) })),
  ...['/v1/chat/completions', '/chat/completions'].map((path): Case => ({ route: `POST ${path}`, call: fixed('POST', path, { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }), own: all(400) })),
  ...['/v1/completions', '/completions'].map((path): Case => ({ route: `POST ${path}`, call: fixed('POST', path, { model: 'no-such-model', prompt: 'hi' }), own: all(400) })),
  ...['/v1/embeddings', '/embeddings'].map((path): Case => ({ route: `POST ${path}`, call: fixed('POST', path, { model: 'no-such-model', input: 'hi' }), own: all(400) })),
]

/** Public routes: no credential at all. */
const PUBLIC = ['GET /health/liveliness', 'GET /health/liveness', 'GET /health/readiness', 'GET /docs', 'GET /openapi.json']

/** Successful POSTs that change nothing (reads with a body). */
const READS_WITH_BODY = new Set(['/key/health', '/v2/key/info', '/budget/info', '/tag/info', '/spend/calculate', '/global/spend/end_users'])

function isChange(call: Call, route: string): boolean {
  if (call.method === 'GET' || READS_WITH_BODY.has(call.path)) return false
  return !/completions|embeddings/.test(route)
}

describeEachEngine('the roles table, route by route', (engine) => {
  let world: World

  beforeAll(async () => {
    const priced = { model_name: 'priced', litellm_params: { model: 'openai/priced', api_base: 'http://127.0.0.1:9/v1', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 } }
    const gateway = await startGateway(engine, { config: { model_list: [priced] } })
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await gateway.call(method, path, { body })
      if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${response.text}`)
      return response.body
    }
    let counter = 0
    world = { gateway, admin, keys: {} as Record<Role, string>, fresh: (prefix) => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}` }
    const roles: Record<Role, string> = { PA: 'proxy_admin', PV: 'proxy_admin_viewer', OA: 'internal_user', TA: 'internal_user', IU: 'internal_user', IV: 'internal_user_viewer' }
    await admin('POST', '/organization/new', { organization_id: OWN_ORG, organization_alias: 'Own' })
    await admin('POST', '/organization/new', { organization_id: OTHER_ORG, organization_alias: 'Other' })
    for (const role of ROLES) world.keys[role] = (await admin('POST', '/user/new', { user_id: USER_OF[role], user_role: roles[role] })).key
    await admin('POST', '/user/new', { user_id: 'u-x', auto_create_key: false })
    const ownMembers = [
      { user_id: 'u-oa', role: 'org_admin' },
      { user_id: 'u-ta', role: 'internal_user' },
      { user_id: 'u-iu', role: 'internal_user' },
      { user_id: 'u-iv', role: 'internal_user_viewer' },
    ]
    await admin('POST', '/organization/member_add', { organization_id: OWN_ORG, member: ownMembers })
    await admin('POST', '/organization/member_add', { organization_id: OTHER_ORG, member: { user_id: 'u-x', role: 'internal_user' } })
    const ownTeam = [{ user_id: 'u-ta', role: 'admin' }, { user_id: 'u-iu', role: 'user' }, { user_id: 'u-iv', role: 'user' }]
    await admin('POST', '/team/new', { team_id: OWN_TEAM, organization_id: OWN_ORG, members_with_roles: ownTeam })
    await admin('POST', '/team/new', { team_id: OTHER_TEAM, organization_id: OTHER_ORG, members_with_roles: [{ user_id: 'u-x', role: 'user' }] })
  })
  afterAll(() => world.gateway.close())

  test('every route of the app has a rule and a row in this table', () => {
    const routes = (world.gateway.app as unknown as { routes: { method: string; path: string }[] }).routes.map((r) => `${r.method} ${r.path}`)
    // Deny by default: a route without a rule would be unreachable, so every one must have a rule.
    expect(routes.filter((route) => routeRuleOf(route.split(' ')[0], route.slice(route.indexOf(' ') + 1)) === undefined)).toEqual([])
    expect(PUBLIC.every((route) => routeRuleOf(route.split(' ')[0], route.split(' ')[1])?.who === 'public')).toBe(true)
    const covered = new Set([...CASES.map((c) => c.route), ...PUBLIC])
    expect(routes.filter((route) => !covered.has(route))).toEqual([])
    expect(CASES.map((c) => c.route).filter((route) => !routes.includes(route))).toEqual([])
  })

  for (const variant of ['own', 'other'] as const) {
    test(`each role on ${variant === 'own' ? 'its own objects' : "someone else's objects"} gets the table's status; refusals write nothing`, async () => {
      const { gateway } = world
      const mismatches: string[] = []
      for (const entry of CASES) {
        const expected = variant === 'own' ? entry.own : (entry.other ?? entry.own)
        for (const [index, role] of ROLES.entries()) {
          const call = await entry.call(world, role, variant)
          const auditRows = () => gateway.store.repos.audit.list({}, { offset: 0, limit: 1 })
          const before = (await auditRows()).total
          const response = await gateway.call(call.method, call.path, { key: world.keys[role], body: call.body })
          const added = (await auditRows()).total - before
          const written = added > 0 ? (await gateway.store.repos.audit.list({}, { offset: 0, limit: added })).rows : []
          const label = `${entry.route} as ${role}`
          if (response.status !== expected[index]) mismatches.push(`${label}: ${response.status} (expected ${expected[index]}) ${response.text.slice(0, 160)}`)
          if (response.status >= 400 && written.length > 0) mismatches.push(`${label}: refused but wrote ${written.length} audit rows`)
          if (response.status === 200 && isChange(call, entry.route) && !written.some((row) => row.route === call.path.split('?')[0])) {
            mismatches.push(`${label}: changed something without an audit row for its route`)
          }
        }
      }
      expect(mismatches).toEqual([])
    }, 120_000)
  }
})
