/**
 * A gateway wired to a fake upstream with a small model list, and a memory usage sink to read records from —
 * the setup the data-plane suites share.
 */
import type { Server } from 'bun'
import { systemClock } from '../src/lib/clock'
import { MemoryUsageSink } from '../src/usage/sink'
import type { DataPlaneOptions } from '../src/data-plane'
import type { TestEngine } from './engines'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { startGateway, type GatewayOptions, type TestGateway } from './gateway'
import { startJwksServer, type JwksServer } from './jwks-server'

export const UPSTREAM_KEY = 'sk-upstream-secret-key-0123456789'

export type ProxyGateway = {
  readonly gateway: TestGateway
  readonly upstream: FakeUpstream
  readonly usage: MemoryUsageSink
  close(): Promise<void>
}

export function proxyConfig(upstream: FakeUpstream, extra: Record<string, any> = {}) {
  const params = (model: string, more: Record<string, unknown> = {}) => ({ model, api_base: upstream.openaiBase, api_key: UPSTREAM_KEY, ...more })
  return {
    model_list: [
      {
        model_name: 'gpt-4o',
        litellm_params: params('openai/gpt-4o', { input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001 }),
        model_info: { id: 'gpt-4o-deployment', access_groups: ['premium'] },
      },
      { model_name: 'gpt-4o-mini', litellm_params: params('openai/gpt-4o-mini'), model_info: { input_cost_per_token: 1.5e-7, output_cost_per_token: 6e-7 } },
      { model_name: 'llama3', litellm_params: params('openai/meta-llama-3', { input_cost_per_token: 1e-7, output_cost_per_token: 2e-7 }), model_info: { access_groups: ['open'] } },
      {
        model_name: 'text-embedding-3-small',
        litellm_params: params('openai/text-embedding-3-small', { input_cost_per_token: 2e-8 }),
        model_info: { mode: 'embedding' },
      },
      { model_name: 'openai/*', litellm_params: params('openai/*') },
    ],
    ...extra,
    router_settings: { model_group_alias: { gpt4: 'gpt-4o' }, ...extra.router_settings },
  }
}

export type ProxyGatewayOptions = {
  config?: Record<string, any>
  dataPlane?: DataPlaneOptions
  /** A model list of the test's own (instead of the default one), built once the upstream listens. */
  models?: (upstream: FakeUpstream) => unknown[]
} & Pick<GatewayOptions, 'env' | 'clock'>

export async function startProxyGateway(engine: TestEngine, options: ProxyGatewayOptions = {}): Promise<ProxyGateway> {
  const upstream = await startFakeUpstream()
  const usage = new MemoryUsageSink()
  const config = proxyConfig(upstream, options.config)
  if (options.models) config.model_list = options.models(upstream) as typeof config.model_list
  const gateway = await startGateway(engine, {
    config,
    dataPlane: { usage, ...options.dataPlane },
    env: options.env,
    clock: options.clock,
  })
  return {
    gateway,
    upstream,
    usage,
    async close() {
      await gateway.close()
      await upstream.stop()
    },
  }
}

/** A config whose only model, `m`, is served by the OpenAI-compatible upstream at `apiBase`. */
const oneModel = (apiBase: string) => ({ model_list: [{ model_name: 'm', litellm_params: { model: 'openai/m', api_base: apiBase } }] })

type UpstreamHandler = (request: Request, server: Server<undefined>) => Response | Promise<Response>

/** Runs `body` against a gateway whose only model, `m`, is served by a tiny upstream answering with `handler`. */
export async function withScriptedUpstream(
  engine: TestEngine,
  handler: UpstreamHandler,
  body: (proxy: ProxyGateway) => Promise<void>,
  dataPlane: DataPlaneOptions = {},
): Promise<void> {
  const upstream = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: handler })
  const proxy = await startProxyGateway(engine, { config: oneModel(`http://127.0.0.1:${upstream.port}/v1`), dataPlane })
  try {
    await body(proxy)
  } finally {
    await proxy.close()
    await upstream.stop(true)
  }
}

export const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })

/** A proxy gateway that also accepts JWTs signed by a local identity provider (`idp`), on the system clock (tokens carry real times). */
export async function startJwtProxyGateway(
  engine: TestEngine,
  config: Record<string, any>,
): Promise<ProxyGateway & { readonly idp: JwksServer }> {
  const idp = await startJwksServer()
  const proxy = await startProxyGateway(engine, {
    clock: systemClock,
    env: { JWT_PUBLIC_KEY_URL: idp.url },
    config: { ...config, general_settings: { enable_jwt_auth: true, ...config.general_settings } },
  })
  return {
    ...proxy,
    idp,
    async close() {
      await proxy.close()
      await idp.stop()
    },
  }
}
