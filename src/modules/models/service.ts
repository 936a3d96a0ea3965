/**
 * The models a caller may use (`/v1/models`, `/v1/models/{model}`) and the deployments behind them
 * (`/model/info`), filtered by the same access rules the LLM routes apply (§5.9, §6.2).
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import { accessibleModels, modelAccessDenial } from '../../governance/model-access'
import { notFound } from '../../http/errors'
import { loadAccessSubject } from '../proxy/request-scope'
import { modelInfoItem, modelItem } from './model'

type Deps = Pick<AppContext, 'caches' | 'dataPlane'>

export async function listModels(deps: Deps, principal: Principal, includeWildcards: boolean) {
  const subject = await loadAccessSubject(deps, principal)
  return { data: accessibleModels(subject, deps.dataPlane.catalog, includeWildcards).map(modelItem), object: 'list' as const }
}

export async function getModel(deps: Deps, principal: Principal, name: string) {
  const subject = await loadAccessSubject(deps, principal)
  if (!accessibleModels(subject, deps.dataPlane.catalog, true).includes(name)) {
    throw notFound(`The model '${name}' does not exist or you do not have access to it.`, 'model')
  }
  return modelItem(name)
}

export async function modelInfo(deps: Deps, principal: Principal, deploymentId: string | undefined) {
  const subject = await loadAccessSubject(deps, principal)
  const { catalog, pricing } = deps.dataPlane
  const showApiBase = principal.role === 'proxy_admin' || principal.role === 'proxy_admin_viewer'
  const data = catalog.deployments
    .filter((deployment) => deploymentId === undefined || deployment.id === deploymentId)
    .filter((deployment) => modelAccessDenial(subject, catalog, deployment.modelName, null) === null)
    .map((deployment) => modelInfoItem(deployment, pricing.priceOf(deployment), showApiBase))
  return { data }
}
