import { Elysia } from 'elysia'
import type { Authenticator } from '../auth/authenticate'
import { checkAllowedRoutes } from '../auth/route-groups'
import { checkRouteAccess, reachableByNonAdmins } from '../auth/route-access'
import { isDataPlanePath, routePath } from './paths'

/**
 * Resolves `principal` for every route of the module that uses it, then applies the route-access table.
 * Deliberately unnamed: Elysia deduplicates named plugins, and each module needs its own scoped copy.
 * `derive` (not `resolve`) so that it runs before schema validation: a caller without a valid credential gets
 * the 401/403, never a 422 that describes the route's schema.
 */
export function withPrincipal(authenticator: Authenticator) {
  return new Elysia().derive({ as: 'scoped' }, async ({ request, route }) => {
    const authenticated = await authenticator.authenticate(request.headers)
    const path = routePath(request.url)
    if (authenticated.allowedRoutes) checkAllowedRoutes(authenticated.allowedRoutes, path)
    for (const limit of authenticated.routeLimits ?? []) checkAllowedRoutes(limit, path)
    // Relationship roles are read only where a non-admin may reach the route at all (the data plane needs none).
    const principal = isDataPlanePath(path) || !reachableByNonAdmins(request.method, route) ? authenticated : await authenticator.withRelations(authenticated)
    checkRouteAccess(principal, request.method, route, path)
    return { principal }
  })
}
