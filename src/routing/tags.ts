/**
 * Tag routing (`router_settings.enable_tag_filtering`, §6.8): a deployment with `litellm_params.tags` serves
 * only requests carrying one of them. A request with tags goes to the deployments sharing one; when none does,
 * to those an untagged request would get. An untagged request goes to deployments tagged `default` or untagged.
 */
import type { Deployment } from '../deployments/deployment'
import { pythonList } from '../lib/python-float'
import { invalidRequest } from '../http/errors'
import { routingParams } from './settings'

const tagsOf = (deployment: Deployment) => routingParams(deployment).tags ?? []

function forUntagged(deployments: readonly Deployment[]): Deployment[] {
  return deployments.filter((deployment) => {
    const tags = tagsOf(deployment)
    return tags.length === 0 || tags.includes('default')
  })
}

export function tagEligible(deployments: readonly Deployment[], requestTags: readonly string[]): readonly Deployment[] {
  if (requestTags.length > 0) {
    const matching = deployments.filter((deployment) => tagsOf(deployment).some((tag) => requestTags.includes(tag)))
    if (matching.length > 0) return matching
  }
  return forUntagged(deployments)
}

/** No deployment of the group may serve the request's tags (LiteLLM's wording). */
export function noTaggedDeployment(model: string, requestTags: readonly string[]) {
  return invalidRequest(`Not allowed to access model due to tags configuration. Passed model=${model} and tags=${pythonList(requestTags)}`, 'model')
}
