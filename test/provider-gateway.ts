/**
 * A gateway whose models are served by the fake upstream's Azure and Anthropic modes, with prices, a memory
 * usage sink, and an in-process HTTP server for the official SDK — the setup the provider suites share.
 */
import type { Server } from 'bun'
import { afterAll, beforeAll, beforeEach } from 'bun:test'
import OpenAI from 'openai'
import { MemoryUsageSink } from '../src/usage/sink'
import type { TestEngine } from './engines'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { MASTER_KEY, startGateway, type TestGateway, type TestResponse } from './gateway'

export const AZURE_KEY = 'azure-upstream-secret-0123456789'
export const ANTHROPIC_KEY = 'sk-ant-upstream-secret-0123456789'

/** USD per token, the same for every model here so expected costs read plainly. */
export const PRICES = { input_cost_per_token: 0.000003, output_cost_per_token: 0.000015, cache_read_input_token_cost: 0.0000003 }

export type ProviderGateway = {
  readonly gateway: TestGateway
  readonly upstream: FakeUpstream
  readonly usage: MemoryUsageSink
  /** The official SDK, pointed at the gateway over real HTTP. */
  readonly sdk: OpenAI
  close(): Promise<void>
}

export function providerModels(upstream: FakeUpstream) {
  const azure = (name: string, apiVersion: string, extra: Record<string, unknown> = {}) => ({
    model_name: name,
    litellm_params: { model: 'azure/gpt4o-deploy', api_base: upstream.url, api_key: AZURE_KEY, api_version: apiVersion, ...PRICES, ...extra },
  })
  return [
    azure('gpt-4o-azure', '2024-10-21'),
    azure('gpt-4o-azure-2024-06', '2024-06-01'),
    { ...azure('embed-azure', '2024-10-21', { model: 'azure/embed-deploy' }), model_info: { mode: 'embedding' } },
    { model_name: 'claude', litellm_params: { model: 'anthropic/claude-sonnet-4-5', api_base: upstream.url, api_key: ANTHROPIC_KEY, ...PRICES } },
  ]
}

export async function startProviderGateway(engine: TestEngine): Promise<ProviderGateway> {
  const upstream = await startFakeUpstream()
  const usage = new MemoryUsageSink()
  // These suites script several upstream failures in a row on one deployment; resting it would hide them.
  const config = { model_list: providerModels(upstream), router_settings: { cooldown_time: 0 } }
  const gateway = await startGateway(engine, { config, dataPlane: { usage } })
  const server: Server<undefined> = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => gateway.app.handle(request) })
  const sdk = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: MASTER_KEY, maxRetries: 0 })
  return {
    gateway,
    upstream,
    usage,
    sdk,
    async close() {
      await server.stop(true)
      await gateway.close()
      await upstream.stop()
    },
  }
}

/** The `data:` payloads of an SSE body, in order. */
export function ssePayloads(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
}

export type ProviderSuite = Pick<ProviderGateway, 'gateway' | 'upstream' | 'usage' | 'sdk'> & {
  /** POSTs `body` to the gateway (default `/v1/chat/completions`) with the master key. */
  post(body: unknown, path?: string): Promise<TestResponse>
}

/** One gateway for the enclosing describe block, with a fresh fake upstream and usage sink before each test. */
export function providerSuite(engine: TestEngine): ProviderSuite {
  let started: ProviderGateway | null = null
  const proxy = () => {
    if (!started) throw new Error('the provider gateway is not started yet')
    return started
  }
  beforeAll(async () => {
    started = await startProviderGateway(engine)
  })
  afterAll(() => started?.close())
  beforeEach(() => {
    proxy().upstream.reset()
    proxy().usage.records.length = 0
  })
  return {
    get gateway() {
      return proxy().gateway
    },
    get upstream() {
      return proxy().upstream
    },
    get usage() {
      return proxy().usage
    },
    get sdk() {
      return proxy().sdk
    },
    post: (body, path = '/v1/chat/completions') => proxy().gateway.call('POST', path, { body }),
  }
}
