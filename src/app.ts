/**
 * createApp(context): mounts the cross-cutting plugins and the feature modules. No environment reads, no
 * listening: tests call `app.handle(new Request(...))` on the same app main.ts serves.
 */
import { Elysia } from 'elysia'
import type { AppContext } from './app-context'
import { jsonBodies } from './http/body'
import { errorHandling } from './http/error-handling'
import { apiDocs } from './http/openapi'
import { healthRoutes } from './modules/health/routes'
import { budgetRoutes } from './modules/budgets/routes'
import { keyRoutes } from './modules/keys/routes'
import { metricsRoutes } from './modules/metrics/routes'
import { spendRoutes } from './modules/spend/routes'
import { teamRoutes } from './modules/teams/routes'
import { userRoutes } from './modules/users/routes'
import { organizationRoutes } from './modules/organizations/routes'
import { customerRoutes } from './modules/customers/routes'
import { tagRoutes } from './modules/tags/routes'
import { modelRoutes } from './modules/models/routes'
import { proxyRoutes } from './modules/proxy/routes'
import { auditRoutes } from './modules/audit/routes'

/**
 * What callers use of the app: `handle` (main.ts serves it, tests call it). Declared rather than inferred: the
 * inferred type of every route's schema is too large for the compiler to compare.
 */
export type App = { handle(request: Request): Promise<Response> }

export function createApp(context: AppContext): App {
  return new Elysia()
    .use(errorHandling({ log: context.log, isConnectionError: context.database.dialect.isConnectionError }))
    .use(jsonBodies(context.settings.config.general_settings.max_request_size_mb))
    .use(apiDocs(context.version))
    .use(healthRoutes(context))
    .use(budgetRoutes(context))
    .use(teamRoutes(context))
    .use(keyRoutes(context))
    .use(userRoutes(context))
    .use(organizationRoutes(context))
    .use(customerRoutes(context))
    .use(tagRoutes(context))
    .use(metricsRoutes(context))
    .use(spendRoutes(context))
    .use(proxyRoutes(context))
    .use(modelRoutes(context))
    .use(auditRoutes(context))
}
