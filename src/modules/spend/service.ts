/**
 * Spend actions: `/spend/calculate` (the price of a call, before or after it) and `/global/spend/reset`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Deployment } from '../../config/schema'
import { badRequest } from '../../http/errors'
import { estimateChatPromptTokens } from '../../usage/estimate'
import { upstreamModelName } from '../../spend/price-table'
import { costOf, priceOf, type Price } from '../../spend/prices'
import type { CalculateSpendBody } from './model'

type Deps = Pick<AppContext, 'repos' | 'settings' | 'spend' | 'observability'>
type ResetDeps = Deps & Pick<AppContext, 'budgets'>

function configuredGroup(deps: Deps, model: string): Deployment | undefined {
  const alias = deps.settings.config.router_settings.model_group_alias?.[model]
  const group = alias === undefined ? model : typeof alias === 'string' ? alias : alias.model
  return deps.settings.config.model_list.find((deployment) => deployment.model_name === group)
}

/** The price of a model name: a configured group (or alias), a deployment's upstream model, else the table. */
function priceForName(deps: Deps, model: string): Price {
  const deployment =
    configuredGroup(deps, model) ??
    deps.settings.config.model_list.find((candidate) => upstreamModelName(candidate.litellm_params.model) === upstreamModelName(model))
  const price = priceOf(deployment ?? { model_name: model, litellm_params: { model } })
  if (!price.priced) throw badRequest(`Model ${model} has no price configured (input_cost_per_token/output_cost_per_token)`, 'model')
  return price
}

type Usage = { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null }
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0)

export function calculateSpend(deps: Deps, body: CalculateSpendBody) {
  if (body.model) {
    if (!body.messages) throw badRequest("Bad Request - messages must be provided if 'model' is provided", 'messages')
    const price = priceForName(deps, body.model)
    return { cost: costOf(price, { promptTokens: estimateChatPromptTokens(body.messages), completionTokens: 0 }) }
  }
  if (body.completion_response) {
    const response = body.completion_response as { model?: unknown; usage?: Usage | null; object?: unknown }
    if (typeof response.model !== 'string' || !response.model) throw badRequest('completion_response.model is required', 'completion_response.model')
    if (!response.usage || typeof response.usage !== 'object') throw badRequest('completion_response.usage is required', 'completion_response.usage')
    const price = priceForName(deps, response.model)
    return {
      cost: costOf(price, {
        promptTokens: count(response.usage.prompt_tokens),
        completionTokens: count(response.usage.completion_tokens),
        cachedTokens: count(response.usage.prompt_tokens_details?.cached_tokens),
        embedding: response.object === 'list',
      }),
    }
  }
  throw badRequest("Bad Request - Either 'model' or 'completion_response' must be provided")
}

/**
 * Zeroes the spend of every key and team (spend logs and rollups are kept). This instance's unflushed spend is
 * written first, so requests served before the reset do not land after it.
 */
export async function resetGlobalSpend(deps: ResetDeps, actor: ChangeActor) {
  await deps.spend.flush()
  await deps.repos.transaction(async (tx) => {
    const keys = await tx.keys.zeroAllSpend()
    const teams = await tx.teams.zeroAllSpend()
    await recordChange(tx, actor, { action: 'updated', tableName: 'keys', objectId: '*', after: { spend: 0, model_spend: {}, rows: keys } })
    await recordChange(tx, actor, { action: 'updated', tableName: 'teams', objectId: '*', after: { spend: 0, rows: teams } })
  })
  // Budget counters of keys and teams are seeded from the database again (now 0).
  await deps.budgets.spendOverwritten({ kind: 'all_keys_and_teams' })
  // Every key and team changed at once: the budget gauges re-read them all rather than wait for their refresh.
  deps.observability.budgetGauges.refreshInBackground()
  return { message: 'Spend for all API Keys and Teams reset successfully', status: 'success' }
}
