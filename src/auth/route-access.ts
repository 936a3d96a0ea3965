/**
 * Who may call a route at all, from one server-side table, deny by default: a route registered in the app but
 * missing here answers 403 to everyone. Finer checks (the object belongs to the caller, the fields they may
 * set) live in each module's service.
 */
import { forbidden } from '../http/errors'
import type { Principal } from './principal'

/**
 * - `any`: every authenticated principal (the service scopes what they see and change)
 * - `admin_read`: proxy_admin and proxy_admin_viewer
 * - `admin`: proxy_admin
 * - `master_key`: the configured master key / generated admin key itself
 */
export type RouteAccess = 'any' | 'admin_read' | 'admin' | 'master_key'

const table = new Map<string, RouteAccess>()

/** Registers routes (`'POST /budget/new'`, patterns as Elysia spells them: `'/key/:key/regenerate'`). */
export function defineRouteAccess(entries: Record<string, RouteAccess>): void {
  for (const [route, access] of Object.entries(entries)) table.set(route, access)
}

export function routeAccessOf(method: string, route: string): RouteAccess | undefined {
  return table.get(`${method} ${route}`)
}

export function registeredRouteAccess(): ReadonlyMap<string, RouteAccess> {
  return table
}

export function checkRouteAccess(principal: Principal, method: string, route: string, path: string): void {
  const access = routeAccessOf(method, route)
  if (access === undefined) throw forbidden(`Route ${method} ${route} is not permitted.`)
  if (access === 'any') return
  if (access === 'master_key') {
    if (principal.kind !== 'master_key') throw forbidden(`Tried to access route=${path}, which is only for MASTER KEY`)
    return
  }
  const allowed = access === 'admin' ? principal.role === 'proxy_admin' : principal.role === 'proxy_admin' || principal.role === 'proxy_admin_viewer'
  if (!allowed) throw forbidden('Admin-only endpoint. Not allowed to access this.')
}
