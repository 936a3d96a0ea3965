/**
 * Azure OpenAI deployments through the whole gateway, against the fake upstream's Azure mode. Providers
 * touch no database, so one engine is enough.
 */
import { describe, expect, test } from 'bun:test'
import { sqliteEngine } from '../../../test/engines'
import { AZURE_CONTENT_FILTER_ERROR } from '../../../test/fake-upstream'
import { AZURE_KEY, PRICES, providerSuite, ssePayloads } from '../../../test/provider-gateway'
import { pythonFloat } from '../../lib/python-float'

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
const COST = 10 * PRICES.input_cost_per_token + 5 * PRICES.output_cost_per_token

describe('Azure OpenAI deployments', () => {
  const suite = providerSuite(sqliteEngine)
  const post = suite.post

  test('chat goes to the deployment path with api-version and the api-key header; usage and cost are recorded', async () => {
    suite.upstream.expectedApiKey = AZURE_KEY
    const response = await post(chat('gpt-4o-azure', { temperature: 0.1 }))
    expect(response.status).toBe(200)
    expect(response.body.choices[0].message.content).toBe('Hello from the fake upstream')
    expect(response.body.model).toBe('gpt4o-deploy-model')
    const received = suite.upstream.requests[0]
    expect(received.path).toBe('/openai/deployments/gpt4o-deploy/chat/completions')
    expect(received.search).toBe('?api-version=2024-10-21')
    expect(received.headers['api-key']).toBe(AZURE_KEY)
    expect(received.headers.authorization).toBeUndefined()
    expect(received.body).toEqual({ model: 'gpt4o-deploy', messages: [{ role: 'user', content: 'hi' }], temperature: 0.1 })
    expect(response.headers.get('x-litellm-response-cost')).toBe(pythonFloat(COST))
    expect(suite.usage.records[0]).toMatchObject({ provider: 'azure', model: 'gpt4o-deploy', promptTokens: 10, completionTokens: 5, cost: COST, status: 'success' })
    expect(response.text).not.toContain(AZURE_KEY)
  })

  test('embeddings use the embeddings deployment path', async () => {
    const response = await post({ model: 'embed-azure', input: ['a', 'b'] }, '/v1/embeddings')
    expect(response.status).toBe(200)
    expect(response.body.data).toHaveLength(2)
    expect(suite.upstream.requests[0].path).toBe('/openai/deployments/embed-deploy/embeddings')
    expect(suite.usage.records[0]).toMatchObject({ callType: 'aembedding', promptTokens: 10, completionTokens: 0 })
  })

  test('a stream is relayed with its usage taken from the final chunk; the response id skips the filter chunk', async () => {
    const response = await post(chat('gpt-4o-azure', { stream: true }))
    const payloads = ssePayloads(response.text)
    expect(payloads.at(-1)).toBe('[DONE]')
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p))
    expect(chunks[0].prompt_filter_results).toHaveLength(1)
    expect(chunks.some((c) => 'usage' in c)).toBe(false)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from the fake upstream')
    expect(suite.upstream.requests[0].body.stream_options).toEqual({ include_usage: true })
    expect(suite.usage.records[0]).toMatchObject({ stream: true, status: 'success', promptTokens: 10, completionTokens: 5, usageEstimated: false, cost: COST })
    expect(suite.usage.records[0].responseId).toMatch(/^chatcmpl-fake/)
  })

  test('api-versions before 2024-09-01 get no stream_options, and the usage of their streams is estimated', async () => {
    const response = await post(chat('gpt-4o-azure-2024-06', { stream: true }))
    expect(response.status).toBe(200)
    expect(ssePayloads(response.text).at(-1)).toBe('[DONE]')
    expect(suite.upstream.requests[0].search).toBe('?api-version=2024-06-01')
    expect(suite.upstream.requests[0].body.stream_options).toBeUndefined()
    expect(suite.usage.records[0]).toMatchObject({ status: 'success', usageEstimated: true })
    expect(suite.usage.records[0].completionTokens).toBeGreaterThan(0)
  })

  test('a tool call round trip passes through unchanged', async () => {
    suite.upstream.reply.toolCall = { name: 'get_weather', arguments: { city: 'Paris' } }
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const first = await post(chat('gpt-4o-azure', { tools }))
    const call = first.body.choices[0].message.tool_calls[0]
    expect(first.body.choices[0].finish_reason).toBe('tool_calls')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' })
    suite.upstream.reply.toolCall = undefined
    const messages = [{ role: 'user', content: 'weather?' }, first.body.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18C' }]
    const second = await post({ model: 'gpt-4o-azure', messages, tools })
    expect(second.body.choices[0].message.content).toBe('Hello from the fake upstream')
    expect(suite.upstream.requests[1].body.messages).toEqual(messages)
  })

  test("Azure's 429 and 500 become OpenAI's envelope with their status; Retry-After is kept; failures cost nothing", async () => {
    suite.upstream.enqueue({ kind: 'error', status: 429, retryAfter: 6, message: 'Requests have exceeded call rate limit. Please retry after 6 seconds.' })
    const limited = await post(chat('gpt-4o-azure'))
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('6')
    expect(limited.body).toEqual({ error: { message: 'Requests have exceeded call rate limit. Please retry after 6 seconds.', type: 'rate_limit_error', param: null, code: 429 } })
    suite.upstream.enqueue({ kind: 'error', status: 500, message: 'Internal error' })
    const broken = await post(chat('gpt-4o-azure'))
    expect(broken.status).toBe(500)
    expect(broken.body).toEqual({ error: { message: 'Internal error', type: 'upstream_error', param: null, code: 500 } })
    expect(suite.usage.records.map((r) => [r.status, r.httpStatus, r.cost, r.error?.type])).toEqual([
      ['failure', 429, 0, 'rate_limit_error'],
      ['failure', 500, 0, 'upstream_error'],
    ])
  })

  test('a content-filter refusal is a 400 content_policy_violation; a wrong key is a 502 that does not show the key', async () => {
    suite.upstream.enqueue({ kind: 'error', status: 400, body: AZURE_CONTENT_FILTER_ERROR })
    const filtered = await post(chat('gpt-4o-azure'))
    expect(filtered.status).toBe(400)
    expect(filtered.body.error).toMatchObject({ type: 'content_policy_violation', param: 'prompt', code: 400 })
    expect(filtered.body.error.message).toEndWith('(filtered: violence)')
    suite.upstream.expectedApiKey = 'another-key'
    const refused = await post(chat('gpt-4o-azure'))
    expect(refused.status).toBe(502)
    expect(refused.body.error.type).toBe('upstream_auth_error')
    expect(refused.text).not.toContain(AZURE_KEY)
  })
})
