/**
 * createApp(context): mounts the cross-cutting plugins and the feature modules. No environment reads, no
 * listening: tests call `app.handle(new Request(...))` on the same app main.ts serves.
 */
import { Elysia } from 'elysia'
import type { AppContext } from './app-context'
import { jsonBodies } from './http/body'
import { errorHandling } from './http/error-handling'
import { healthRoutes } from './modules/health/routes'
import { budgetRoutes } from './modules/budgets/routes'
import { modelRoutes } from './modules/models/routes'
import { proxyRoutes } from './modules/proxy/routes'

export function createApp(context: AppContext) {
  return new Elysia()
    .use(errorHandling({ log: context.log, isConnectionError: context.database.dialect.isConnectionError }))
    .use(jsonBodies(context.settings.config.general_settings.max_request_size_mb))
    .use(healthRoutes(context))
    .use(budgetRoutes(context))
    .use(proxyRoutes(context))
    .use(modelRoutes(context))
}

export type App = ReturnType<typeof createApp>
