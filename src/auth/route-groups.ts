/**
 * Named groups of routes, as LiteLLM names them in `allowed_routes`, `team_allowed_routes` and
 * `admin_allowed_routes`, and the one function that decides whether a path is inside an allow-list of
 * paths, `*` wildcards and group names. Lists only ever narrow what a role allows; they never grant a route.
 */
import { forbidden } from '../http/errors'
import { pythonList } from '../lib/python-float'

const OPENAI_ROUTES = [
  '/chat/completions',
  '/v1/chat/completions',
  '/completions',
  '/v1/completions',
  '/embeddings',
  '/v1/embeddings',
  '/models',
  '/v1/models',
  '/models/*',
  '/v1/models/*',
]

const INFO_ROUTES = [
  '/key/info',
  '/v2/key/info',
  '/key/health',
  '/key/list',
  '/team/info',
  '/team/list',
  '/v2/team/list',
  '/team/available',
  '/team/permissions_list',
  '/user/info',
  '/v2/user/info',
  '/model/info',
  '/v1/model/info',
  '/organization/info',
  '/organization/list',
  '/customer/info',
  '/end_user/info',
  '/budget/info',
  '/tag/info',
  '/tag/list',
  '/health',
]

const MANAGEMENT_ROUTES = [
  '/team/*',
  '/v2/team/*',
  '/key/*',
  '/v2/key/*',
  '/user/*',
  '/v2/user/*',
  '/organization/*',
  '/budget/*',
  '/customer/*',
  '/end_user/*',
  '/tag/*',
  '/audit',
]

const GLOBAL_SPEND_ROUTES = ['/global/spend', '/global/spend/*', '/global/activity', '/global/activity/*']
const SPEND_ROUTES = ['/spend/*', ...GLOBAL_SPEND_ROUTES, '/user/daily/activity', '/team/daily/activity', '/tag/daily/activity', '/customer/daily/activity']

export const ROUTE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  openai_routes: OPENAI_ROUTES,
  llm_api_routes: OPENAI_ROUTES,
  info_routes: INFO_ROUTES,
  management_routes: MANAGEMENT_ROUTES,
  spend_tracking_routes: SPEND_ROUTES,
  global_spend_tracking_routes: GLOBAL_SPEND_ROUTES,
}

function patternMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('*')) return pattern === path
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return regex.test(path)
}

/** Whether `path` is inside `allowed` (paths, `*` wildcards, group names). An empty list allows nothing. */
export function routeAllowed(allowed: readonly string[], path: string): boolean {
  return allowed.some((entry) => (ROUTE_GROUPS[entry] ?? [entry]).some((pattern) => patternMatches(pattern, path)))
}

export function checkAllowedRoutes(allowed: readonly string[], path: string): void {
  if (!routeAllowed(allowed, path)) {
    throw forbidden(`Key not allowed to access route=${path}. Allowed routes=${pythonList(allowed)}`)
  }
}

/** What `key_type` presets (§4): `default` (or none) adds no limit. */
const KEY_TYPE_ROUTES: Readonly<Record<string, readonly string[]>> = {
  llm_api: ['llm_api_routes'],
  management: ['management_routes'],
  read_only: ['info_routes'],
}

export function keyTypeRoutes(keyType: string | null | undefined): readonly string[] | undefined {
  return keyType ? KEY_TYPE_ROUTES[keyType] : undefined
}

/** The allow-lists a key's requests must pass: its `allowed_routes` (when set) and its `key_type` preset. */
export function keyRouteLimits(key: { allowedRoutes: readonly string[]; keyType: string | null }): (readonly string[])[] {
  const limits: (readonly string[])[] = []
  if (key.allowedRoutes.length > 0) limits.push(key.allowedRoutes)
  const preset = keyTypeRoutes(key.keyType)
  if (preset) limits.push(preset)
  return limits
}
