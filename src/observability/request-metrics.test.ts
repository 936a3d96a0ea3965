/**
 * Request metrics recorded for real traffic through the proxy: served, failed upstream, streamed, and refused
 * before forwarding — with LiteLLM's names, labels in LiteLLM's (alphabetical) order and Python-style values.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import { sqliteEngine } from '../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../test/fixtures'
import { sample, scrape } from '../../test/metrics-scrape'
import { chat, startProxyGateway, type ProxyGateway } from '../../test/proxy-gateway'
import { goFloat } from '../metrics/exposition'

let proxy: ProxyGateway
beforeAll(async () => {
  proxy = await startProxyGateway(sqliteEngine)
  const { repos } = proxy.gateway.store
  await insertTeam(repos, { teamId: 'team-m', teamAlias: 'Metrics Team' })
  await insertUser(repos, { userId: 'user-m' })
})
afterAll(() => proxy.close())
beforeEach(() => proxy.upstream.reset())

const send = (key: string | null, body: unknown) => proxy.gateway.call('POST', '/v1/chat/completions', { key, body })
const keyOf = (fields: Parameters<typeof insertKey>[1]) => insertKey(proxy.gateway.store.repos, fields)

test('a served request moves the request, spend, token, latency and deployment metrics, labelled as LiteLLM labels them', async () => {
  const { key, row } = await keyOf({ teamId: 'team-m', userId: 'user-m', keyAlias: 'metrics-key' })
  const before = proxy.usage.records.length
  expect((await send(key, chat('gpt4', { user: 'customer-1' }))).status).toBe(200)
  await proxy.usage.waitFor(before + 1)
  const record = proxy.usage.records.at(-1)!
  const text = await scrape(proxy.gateway)
  const hash = row.token

  // The whole line, as LiteLLM's client prints it: labels sorted, end_user "" without the opt-in, a Python float.
  expect(text).toContain(
    `litellm_proxy_total_requests_metric_total{api_key_alias="metrics-key",end_user="",hashed_api_key="${hash}",requested_model="gpt4",status_code="200",team="team-m",team_alias="Metrics Team",user="user-m"} 1.0`,
  )
  const owner = { hashed_api_key: hash, api_key_alias: 'metrics-key', team: 'team-m', team_alias: 'Metrics Team', user: 'user-m', end_user: '' }
  // `model` is the upstream model without its provider prefix; `requested_model` what the client sent (an alias here).
  expect(sample(text, 'litellm_spend_metric_total', { ...owner, model: 'gpt-4o' })).toBe(goFloat(record.cost))
  expect(record.cost).toBe(10 * 0.0000025 + 5 * 0.00001)
  const tokens = { ...owner, model: 'gpt-4o', requested_model: 'gpt4' }
  expect(sample(text, 'litellm_total_tokens_metric_total', tokens)).toBe('15.0')
  expect(sample(text, 'litellm_input_tokens_metric_total', tokens)).toBe('10.0')
  expect(sample(text, 'litellm_output_tokens_metric_total', tokens)).toBe('5.0')
  expect(sample(text, 'litellm_request_total_latency_metric_count', tokens)).toBe('1.0')
  expect(sample(text, 'litellm_llm_api_latency_metric_count', tokens)).toBe('1.0')
  expect(sample(text, 'litellm_overhead_latency_metric_count', { hashed_api_key: hash, model: 'gpt-4o' })).toBe('1.0')
  expect(sample(text, 'litellm_llm_api_time_to_first_token_metric_count', { hashed_api_key: hash })).toBeUndefined()
  const deployment = {
    requested_model: 'gpt-4o',
    litellm_model_name: 'gpt-4o',
    model_id: 'gpt-4o-deployment',
    api_base: proxy.upstream.openaiBase,
    api_provider: 'openai',
    hashed_api_key: hash,
    api_key_alias: 'metrics-key',
    team: 'team-m',
    team_alias: 'Metrics Team',
  }
  expect(sample(text, 'litellm_deployment_total_requests_total', deployment)).toBe('1.0')
  expect(sample(text, 'litellm_deployment_success_responses_total', deployment)).toBe('1.0')
  expect(sample(text, 'litellm_deployment_failure_responses_total', deployment)).toBeUndefined()
  expect(sample(text, 'litellm_proxy_failed_requests_metric_total', { hashed_api_key: hash })).toBeUndefined()
})

test('an upstream failure counts as a failed request and a deployment failure, and costs nothing', async () => {
  const { key, row } = await keyOf({ keyAlias: 'failing-key' })
  proxy.upstream.enqueue({ kind: 'error', status: 500 })
  expect((await send(key, chat('gpt-4o'))).status).toBe(500)
  const text = await scrape(proxy.gateway)
  const who = { hashed_api_key: row.token, api_key_alias: 'failing-key', requested_model: 'gpt-4o' }
  expect(sample(text, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '500' })).toBe('1.0')
  expect(sample(text, 'litellm_proxy_failed_requests_metric_total', { ...who, exception_status: '500', exception_class: 'UpstreamError500' })).toBe('1.0')
  expect(sample(text, 'litellm_deployment_failure_responses_total', { hashed_api_key: row.token, exception_status: '500', model_id: 'gpt-4o-deployment' })).toBe('1.0')
  expect(sample(text, 'litellm_spend_metric_total', { hashed_api_key: row.token })).toBeUndefined()
  expect(sample(text, 'litellm_request_total_latency_metric_count', { hashed_api_key: row.token })).toBeUndefined()
})

test('requests refused before forwarding count as total and failed requests with the status the client got', async () => {
  const total = (labels: Record<string, string>) => Number(sample(text, 'litellm_proxy_total_requests_metric_total', labels) ?? 0)
  let text = await scrape(proxy.gateway)
  const anonymous = { hashed_api_key: '', api_key_alias: '', team: '', user: '', requested_model: '', status_code: '401' }
  const anonymousBefore = total(anonymous)

  expect((await send(null, chat('gpt-4o'))).status).toBe(401)
  const unknown = 'sk-this-key-does-not-exist-0123456789'
  expect((await send(unknown, chat('gpt-4o'))).status).toBe(401)

  const { key: llamaOnly, row: llamaRow } = await keyOf({ keyAlias: 'llama-only', models: ['llama3'] })
  expect((await send(llamaOnly, chat('gpt-4o'))).status).toBe(401)

  const { key: limited, row: limitedRow } = await keyOf({ keyAlias: 'one-rpm', rpmLimit: 1 })
  expect((await send(limited, chat('gpt-4o'))).status).toBe(200)
  expect((await send(limited, chat('gpt-4o'))).status).toBe(429)

  const { key: sloppy, row: sloppyRow } = await keyOf({})
  expect((await send(sloppy, { model: 'gpt-4o' })).status).toBe(422)

  text = await scrape(proxy.gateway)
  expect(total(anonymous)).toBe(anonymousBefore + 2)
  expect(text).not.toContain(unknown)

  const denied = { hashed_api_key: llamaRow.token, api_key_alias: 'llama-only', requested_model: 'gpt-4o' }
  expect(sample(text, 'litellm_proxy_total_requests_metric_total', { ...denied, status_code: '401' })).toBe('1.0')
  expect(
    sample(text, 'litellm_proxy_failed_requests_metric_total', { ...denied, exception_status: '401', exception_class: 'KeyModelAccessDenied' }),
  ).toBe('1.0')

  const rate = { hashed_api_key: limitedRow.token, requested_model: 'gpt-4o' }
  expect(sample(text, 'litellm_proxy_total_requests_metric_total', { ...rate, status_code: '200' })).toBe('1.0')
  expect(sample(text, 'litellm_proxy_total_requests_metric_total', { ...rate, status_code: '429' })).toBe('1.0')
  expect(sample(text, 'litellm_proxy_failed_requests_metric_total', { ...rate, exception_class: 'RateLimitError', exception_status: '429' })).toBe('1.0')
  expect(sample(text, 'litellm_proxy_failed_requests_metric_total', { hashed_api_key: sloppyRow.token, exception_status: '422' })).toBe('1.0')
  // Only the one admitted request went upstream, and refusals reach no deployment counter.
  expect(proxy.upstream.requests).toHaveLength(1)
  expect(sample(text, 'litellm_deployment_total_requests_total', { hashed_api_key: limitedRow.token })).toBe('1.0')
})

test('a stream observes time to first token', async () => {
  const { key, row } = await keyOf({})
  const before = proxy.usage.records.length
  expect((await send(key, chat('gpt-4o', { stream: true }))).status).toBe(200)
  await proxy.usage.waitFor(before + 1)
  const text = await scrape(proxy.gateway)
  expect(sample(text, 'litellm_llm_api_time_to_first_token_metric_count', { hashed_api_key: row.token, model: 'gpt-4o' })).toBe('1.0')
  expect(sample(text, 'litellm_output_tokens_metric_total', { hashed_api_key: row.token })).toBe('5.0')
})

test('a model without a price counts in tollgate_unpriced_requests_total', async () => {
  const { key } = await keyOf({})
  const before = Number(sample(await scrape(proxy.gateway), 'tollgate_unpriced_requests_total', { model: 'my-local-model' }) ?? 0)
  const waitFor = proxy.usage.records.length + 1
  expect((await send(key, chat('openai/my-local-model'))).status).toBe(200)
  await proxy.usage.waitFor(waitFor)
  expect(sample(await scrape(proxy.gateway), 'tollgate_unpriced_requests_total', { model: 'my-local-model' })).toBe(goFloat(before + 1))
})

test("a key's per-model limits show what is left in the window, as the rate limiter counted it", async () => {
  const { key, row } = await keyOf({ keyAlias: 'model-limited', metadata: { model_rpm_limit: { 'gpt-4o': 5 }, model_tpm_limit: { 'gpt-4o': 1000 } } })
  const labels = { hashed_api_key: row.token, api_key_alias: 'model-limited', model: 'gpt-4o' }
  const waitFor = proxy.usage.records.length + 2
  expect((await send(key, chat('gpt-4o'))).status).toBe(200)
  expect((await send(key, chat('gpt-4o'))).status).toBe(200)
  await proxy.usage.waitFor(waitFor)
  const text = await scrape(proxy.gateway)
  expect(sample(text, 'litellm_remaining_api_key_requests_for_model', labels)).toBe('3.0')
  // TPM is post-paid: at the second admission the first request's 15 tokens were counted.
  expect(sample(text, 'litellm_remaining_api_key_tokens_for_model', labels)).toBe('985.0')

  // A key without per-model limits has no limiter, hence no series.
  const { key: plain, row: plainRow } = await keyOf({ rpmLimit: 100 })
  expect((await send(plain, chat('gpt-4o'))).status).toBe(200)
  expect(sample(await scrape(proxy.gateway), 'litellm_remaining_api_key_requests_for_model', { hashed_api_key: plainRow.token })).toBeUndefined()
})

test('end_user is a label only with enable_end_user_cost_tracking_prometheus_only', async () => {
  const tracking = await startProxyGateway(sqliteEngine, { config: { litellm_settings: { enable_end_user_cost_tracking_prometheus_only: true } } })
  try {
    const { key, row } = await insertKey(tracking.gateway.store.repos)
    expect((await tracking.gateway.call('POST', '/v1/chat/completions', { key, body: chat('gpt-4o', { user: 'customer-1' }) })).status).toBe(200)
    await tracking.usage.waitFor(1)
    const text = await scrape(tracking.gateway)
    expect(sample(text, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: row.token, end_user: 'customer-1' })).toBe('1.0')
    expect(sample(text, 'litellm_spend_metric_total', { hashed_api_key: row.token, end_user: 'customer-1' })).toBeDefined()
  } finally {
    await tracking.close()
  }
})
