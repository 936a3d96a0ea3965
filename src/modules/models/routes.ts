import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import { notFound } from '../../http/errors'
import { withPrincipal } from '../../http/principal'
import { modelInfoQuery, modelsQuery } from './model'
import * as models from './service'

/** A model name from the path; an encoded slash never names a model (§3: it matches no route). */
function modelParam(raw: string): string {
  if (/%2f/i.test(raw)) throw notFound(`The model '${raw}' does not exist or you do not have access to it.`, 'model')
  try {
    return decodeURIComponent(raw)
  } catch {
    throw notFound(`The model '${raw}' does not exist or you do not have access to it.`, 'model')
  }
}

export function modelRoutes(context: AppContext) {
  const list = ({ principal, query }: { principal: Principal; query: { return_wildcard_routes?: string } }) =>
    models.listModels(context, principal, query.return_wildcard_routes === 'true')
  const one = ({ principal, params }: { principal: Principal; params: Record<string, string> }) =>
    models.getModel(context, principal, modelParam(params['*']))
  const info = ({ principal, query }: { principal: Principal; query: { litellm_model_id?: string } }) =>
    models.modelInfo(context, principal, query.litellm_model_id)
  return new Elysia({ detail: { tags: ['models'] } })
    .use(withPrincipal(context.authenticator))
    .get('/v1/models', list, { query: modelsQuery })
    .get('/models', list, { query: modelsQuery })
    .get('/v1/models/*', one)
    .get('/models/*', one)
    .get('/model/info', info, { query: modelInfoQuery })
    .get('/v1/model/info', info, { query: modelInfoQuery })
}
