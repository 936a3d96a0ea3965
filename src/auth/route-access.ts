/**
 * Who may call a route at all (§4), read from one server-side table, deny by default: a route registered in the
 * app but missing from the table answers 403 to everyone. The table itself is `route-table.ts`; this file is the
 * one place a rule is read. Finer checks (the object belongs to the caller, the fields they may set) live in
 * each module's service, on top of `object-access.ts` and `field-rules.ts`.
 */
import { forbidden } from '../http/errors'
import type { Principal } from './principal'
import { NO_RELATIONS } from './relations'
import { ROUTE_TABLE } from './route-table'

/** The columns of §4's roles table. A user may be several at once (an internal user who admins a team). */
export const ACTORS = ['proxy_admin', 'proxy_admin_viewer', 'org_admin', 'team_admin', 'internal_user', 'internal_user_viewer'] as const
export type Actor = (typeof ACTORS)[number]

/**
 * A route's rule: `public` (no credential), `master_key` (the configured or generated admin key itself), or the
 * columns that may reach it; `denied` is the 403 message for everyone else (default: LiteLLM's admin-only one).
 */
export type RouteRule = {
  readonly who: 'public' | 'master_key' | readonly Actor[]
  readonly denied?: string | ((principal: Principal) => string)
}

/**
 * Shorthands modules used before the roles table (kept so their `defineRouteAccess` entries still read):
 * `any` every column, `admin_read` the two admin roles, `admin` proxy_admin, `master_key`.
 */
export type RouteAccess = 'any' | 'admin_read' | 'admin' | 'master_key' | RouteRule

export const ADMIN_ONLY = 'Admin-only endpoint. Not allowed to access this.'

export function ruleOf(access: RouteAccess): RouteRule {
  if (typeof access !== 'string') return access
  if (access === 'any') return { who: ACTORS }
  if (access === 'admin_read') return { who: ['proxy_admin', 'proxy_admin_viewer'] }
  if (access === 'admin') return { who: ['proxy_admin'] }
  return { who: 'master_key' }
}

const table = new Map<string, RouteRule>(Object.entries(ROUTE_TABLE).map(([route, access]) => [route, ruleOf(access)]))

/**
 * Registers routes a module adds (`'POST /x/new'`, patterns as Elysia spells them: `'/key/:key/regenerate'`).
 * The roles table is authoritative: registering a route it already has does not change that route's rule.
 */
export function defineRouteAccess(entries: Record<string, RouteAccess>): void {
  for (const [route, access] of Object.entries(entries)) {
    if (!table.has(route)) table.set(route, ruleOf(access))
  }
}

export function routeRuleOf(method: string, route: string): RouteRule | undefined {
  return table.get(`${method} ${route}`)
}

export function registeredRouteRules(): ReadonlyMap<string, RouteRule> {
  return table
}

/**
 * The columns a principal stands in. Admin roles are exactly their role; a viewer stays a viewer whatever its
 * memberships (viewer roles have no write routes, §12 #20); an internal user is also `team_admin` / `org_admin`
 * when it holds that role in some team / organization (the service then checks it is *this* object's).
 */
export function actorsOf(principal: Principal): ReadonlySet<Actor> {
  if (principal.role !== 'internal_user') return new Set<Actor>([principal.role])
  const relations = principal.relations ?? NO_RELATIONS
  const actors = new Set<Actor>(['internal_user'])
  if ([...relations.teams.values()].includes('admin')) actors.add('team_admin')
  if ([...relations.organizations.values()].includes('org_admin')) actors.add('org_admin')
  return actors
}

/** Whether anyone but the admin roles may reach the route (only then do relationship roles matter). */
export function reachableByNonAdmins(method: string, route: string): boolean {
  const who = routeRuleOf(method, route)?.who
  return Array.isArray(who) && who.some((actor) => actor !== 'proxy_admin' && actor !== 'proxy_admin_viewer')
}

export function checkRouteAccess(principal: Principal, method: string, route: string, path: string): void {
  const rule = routeRuleOf(method, route)
  if (rule === undefined) throw forbidden(`Route ${method} ${route} is not permitted.`)
  if (rule.who === 'public') return
  if (rule.who === 'master_key') {
    if (principal.kind !== 'master_key') throw forbidden(`Tried to access route=${path}, which is only for MASTER KEY`)
    return
  }
  const actors = actorsOf(principal)
  if (rule.who.some((actor) => actors.has(actor))) return
  const denied = rule.denied ?? ADMIN_ONLY
  throw forbidden(typeof denied === 'string' ? denied : denied(principal))
}
