/**
 * A proxy gateway set up for budget tests: `llama3` priced so the fake upstream's default usage (10 prompt +
 * 5 completion tokens) costs exactly 3.5e-06 (seed 003's number), a free model, an unpriced one, and helpers
 * to call chat, flush spend and run the sweeper on the gateway's manual clock.
 */
import type { ManualClock } from '../src/lib/clock'
import type { TestEngine } from './engines'
import type { FakeUpstream } from './fake-upstream'
import type { TestResponse } from './gateway'
import { chat, startProxyGateway, UPSTREAM_KEY, type ProxyGateway } from './proxy-gateway'

/** One seed-003 chat with the fake upstream's default usage. */
export const SEED_COST = 3.5e-6

export function budgetModels(upstream: FakeUpstream) {
  const params = (model: string, more: Record<string, unknown> = {}) => ({ model, api_base: upstream.openaiBase, api_key: UPSTREAM_KEY, ...more })
  return [
    { model_name: 'llama3', litellm_params: params('openai/meta-llama-3', { input_cost_per_token: 3e-7, output_cost_per_token: 1e-7 }) },
    { model_name: 'free-model', litellm_params: params('openai/free-model', { input_cost_per_token: 0, output_cost_per_token: 0 }) },
    { model_name: 'mystery', litellm_params: params('openai/not-a-known-model') },
    { model_name: 'capped-out', litellm_params: params('openai/capped-out', { input_cost_per_token: 3e-7, output_cost_per_token: 1e-7 }), model_info: { max_output_tokens: 50 } },
  ]
}

export type BudgetGateway = ProxyGateway & {
  readonly clock: ManualClock
  chatAs(key: string, extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<TestResponse>
  /** Writes the spool to the database. */
  flush(): Promise<void>
  /** One sweeper tick. */
  sweep(): Promise<{ leader: boolean; reset: number; failed: number }>
}

export async function startBudgetGateway(engine: TestEngine, config: Record<string, any> = {}): Promise<BudgetGateway> {
  return withBudgetHelpers(await startProxyGateway(engine, { config, models: budgetModels }))
}

export function withBudgetHelpers(proxy: ProxyGateway): BudgetGateway {
  const { gateway } = proxy
  return Object.assign(proxy, {
    clock: gateway.clock as ManualClock,
    chatAs: (key: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      gateway.call('POST', '/v1/chat/completions', { body: chat(String(extra.model ?? 'llama3'), extra), key, headers }),
    flush: async () => {
      const result = await gateway.context.spend.flush()
      if (result.error) throw new Error(result.error)
    },
    sweep: () => gateway.context.budgets.sweeper.runOnce(),
  })
}
