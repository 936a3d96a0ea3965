/**
 * `/v1/models` and `/model/info` (§5.9): query schemas and the response shapes. Queries are loose: OpenAI and
 * LiteLLM clients send parameters Tollgate does not use.
 */
import { z } from 'zod'
import type { Deployment } from '../../deployments/deployment'
import type { Price } from '../../spend/prices'

export const modelsQuery = z.looseObject({ return_wildcard_routes: z.enum(['true', 'false']).optional() })
export const modelInfoQuery = z.looseObject({ litellm_model_id: z.string().optional() })

/** The `created` LiteLLM reports for every model. */
const CREATED = 1677610602

export function modelItem(id: string) {
  return { id, object: 'model' as const, created: CREATED, owned_by: 'openai' }
}

/** One deployment as `/model/info` shows it: never `api_key`; `api_base` only to admin roles. */
export function modelInfoItem(deployment: Deployment, price: Price, showApiBase: boolean) {
  const params = deployment.config.litellm_params
  const info = deployment.config.model_info ?? {}
  const litellmParams: Record<string, unknown> = { model: params.model }
  if (showApiBase && params.api_base !== undefined) litellmParams.api_base = params.api_base
  for (const field of ['rpm', 'tpm', 'timeout', 'input_cost_per_token', 'output_cost_per_token', 'tags'] as const) {
    if (params[field] !== undefined) litellmParams[field] = params[field]
  }
  return {
    model_name: deployment.modelName,
    litellm_params: litellmParams,
    model_info: {
      id: deployment.id,
      mode: deployment.mode,
      access_groups: deployment.accessGroups,
      max_tokens: info.max_tokens ?? null,
      max_input_tokens: info.max_input_tokens ?? null,
      max_output_tokens: info.max_output_tokens ?? null,
      input_cost_per_token: price.priced ? price.input : null,
      output_cost_per_token: price.priced ? price.output : null,
      db_model: false,
    },
  }
}
