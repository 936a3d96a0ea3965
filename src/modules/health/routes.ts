import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { defineRouteAccess } from '../../auth/route-access'
import { errorEnvelope } from '../../http/errors'
import { withPrincipal } from '../../http/principal'
import { healthQuery } from './model'
import { readiness } from './service'

defineRouteAccess({ 'GET /health': 'admin_read' })

const ALIVE = "I'm alive!"

/**
 * Liveness never touches the database; readiness does (and asks Redis for a PING). Both are public and
 * registered before the credential check, which applies only to routes added after it: GET /health, the
 * per-deployment probes, for proxy_admin and proxy_admin_viewer.
 */
export function healthRoutes(context: AppContext) {
  return new Elysia()
    .get('/health/liveliness', () => Response.json(ALIVE))
    .get('/health/liveness', () => Response.json(ALIVE))
    .get('/health/readiness', async () => {
      const report = await readiness(context)
      if (report.db !== 'connected') {
        return Response.json(errorEnvelope(503, 'service_unavailable', 'Service Unhealthy: db=Not connected'), { status: 503 })
      }
      return report
    })
    .use(withPrincipal(context.authenticator))
    .get('/health', ({ query }) => context.observability.health.report(query.model), { query: healthQuery })
}
