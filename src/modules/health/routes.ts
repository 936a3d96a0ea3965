import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { errorEnvelope } from '../../http/errors'
import { readiness } from './service'

const ALIVE = "I'm alive!"

/** Public health routes: liveness never touches the database; readiness does. */
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
}
