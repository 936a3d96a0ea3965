import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { withPrincipal } from '../../http/principal'
import { pythonStyleExposition } from '../../metrics/exposition'

/**
 * GET /metrics: Prometheus text. Unlike LiteLLM it needs a proxy-admin credential unless
 * `litellm_settings.require_auth_for_metrics_endpoint: false` makes it public.
 */
export function metricsRoutes(context: AppContext) {
  const scrape = async () => {
    // Memory only: a scrape never queries the database (gauges are set when their objects change).
    context.observability.beforeScrape()
    return new Response(pythonStyleExposition(await context.metrics.registry.metrics()), {
      headers: { 'content-type': context.metrics.registry.contentType },
    })
  }
  if (!context.settings.config.litellm_settings.require_auth_for_metrics_endpoint) {
    return new Elysia().get('/metrics', scrape)
  }
  return new Elysia().use(withPrincipal(context.authenticator)).get('/metrics', scrape)
}
