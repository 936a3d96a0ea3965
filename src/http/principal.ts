import { Elysia } from 'elysia'
import type { Authenticator } from '../auth/authenticate'
import { checkAllowedRoutes } from '../auth/route-groups'
import { checkRouteAccess } from '../auth/route-access'
import { routePath } from './paths'

/**
 * Resolves `principal` for every route of the module that uses it, then applies the route-access table.
 * Deliberately unnamed: Elysia deduplicates named plugins, and each module needs its own scoped copy.
 */
export function withPrincipal(authenticator: Authenticator) {
  return new Elysia().resolve({ as: 'scoped' }, async ({ request, route }) => {
    const principal = await authenticator.authenticate(request.headers)
    const path = routePath(request.url)
    if (principal.allowedRoutes) checkAllowedRoutes(principal.allowedRoutes, path)
    checkRouteAccess(principal, request.method, route, path)
    return { principal }
  })
}
