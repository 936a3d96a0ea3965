import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { withPrincipal } from '../../http/principal'
import { auditQuery } from './model'
import { listAudit } from './service'

export function auditRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['audit'] } })
    .use(withPrincipal(context.authenticator))
    .get('/audit', ({ query, principal }) => listAudit(context, principal, query), { query: auditQuery })
}
