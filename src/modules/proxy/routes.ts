import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { defineRouteAccess } from '../../auth/route-access'
import { documentedBody } from '../../http/openapi'
import { withPrincipal } from '../../http/principal'
import { chatCompletionDocs, completionDocs, embeddingDocs } from './request-docs'
import { proxyCall } from './service'

// Every authenticated principal may call the LLM routes; model access is decided per request (§6.2).
defineRouteAccess({
  'POST /v1/chat/completions': 'any',
  'POST /chat/completions': 'any',
  'POST /v1/completions': 'any',
  'POST /completions': 'any',
  'POST /v1/embeddings': 'any',
  'POST /embeddings': 'any',
})

/**
 * The OpenAI-compatible LLM routes (each also without `/v1`). The body is read by the service, after auth.
 * A request answered with an error before anything was forwarded (credential, model access, budget, rate
 * limit, body) leaves no usage record; once its response is out, it is reported for metrics and the log.
 */
export function proxyRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['openai'] } })
    .derive(() => ({ receivedAt: performance.now() }))
    .use(withPrincipal(context.authenticator))
    .onAfterResponse((ctx) => {
      // Elysia leaves the error its onError hooks answered on the context (untyped in 1.4); `principal` is
      // unset when the credential itself was refused. A covering test lives in src/observability.
      const { error } = ctx as { error?: unknown }
      if (!error) return
      context.observability.requests.refused({ request: ctx.request, error, principal: ctx.principal ?? null, receivedAt: ctx.receivedAt ?? null })
    })
    .post('/v1/chat/completions', ({ request, principal }) => proxyCall(context, 'chat', request, principal), { detail: documentedBody(chatCompletionDocs) })
    .post('/chat/completions', ({ request, principal }) => proxyCall(context, 'chat', request, principal), { detail: documentedBody(chatCompletionDocs) })
    .post('/v1/completions', ({ request, principal }) => proxyCall(context, 'completion', request, principal), { detail: documentedBody(completionDocs) })
    .post('/completions', ({ request, principal }) => proxyCall(context, 'completion', request, principal), { detail: documentedBody(completionDocs) })
    .post('/v1/embeddings', ({ request, principal }) => proxyCall(context, 'embedding', request, principal), { detail: documentedBody(embeddingDocs) })
    .post('/embeddings', ({ request, principal }) => proxyCall(context, 'embedding', request, principal), { detail: documentedBody(embeddingDocs) })
}
