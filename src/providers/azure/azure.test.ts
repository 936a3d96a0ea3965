import { describe, expect, test } from 'bun:test'
import { AZURE_CONTENT_FILTER_ERROR } from '../../../test/fake-upstream'
import { toDeployment } from '../../deployments/deployment'
import type { UpstreamCall } from '../types'
import { acceptsStreamOptions, azureProvider } from '.'

const call = (operation: UpstreamCall['operation'] = 'chat', stream = false, apiVersion = '2024-10-21'): UpstreamCall => ({
  operation,
  deployment: toDeployment(
    {
      model_name: 'gpt-4o-eu',
      litellm_params: { model: 'azure/gpt-4o prod', api_base: 'https://eu.openai.azure.com/', api_key: 'azure-secret', api_version: apiVersion },
    },
    0,
  ),
  upstreamModel: 'gpt-4o prod',
  body: stream ? { model: 'gpt-4o prod', messages: [], stream: true, stream_options: { include_usage: true } } : { model: 'gpt-4o prod', messages: [] },
  stream,
})

describe('the Azure OpenAI provider', () => {
  test('request out: the deployment path with api-version, an api-key header, the body as given', () => {
    const spec = azureProvider.buildRequest(call())
    expect(spec).toEqual({
      url: 'https://eu.openai.azure.com/openai/deployments/gpt-4o%20prod/chat/completions?api-version=2024-10-21',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'api-key': 'azure-secret' },
      body: '{"model":"gpt-4o prod","messages":[]}',
    })
    expect(azureProvider.buildRequest(call('embedding')).url).toBe('https://eu.openai.azure.com/openai/deployments/gpt-4o%20prod/embeddings?api-version=2024-10-21')
    expect(azureProvider.buildRequest(call('completion')).url).toContain('/openai/deployments/gpt-4o%20prod/completions?')
  })

  test('stream_options is sent only to api-versions that accept it', () => {
    expect(JSON.parse(azureProvider.buildRequest(call('chat', true)).body).stream_options).toEqual({ include_usage: true })
    expect(JSON.parse(azureProvider.buildRequest(call('chat', true, '2024-06-01')).body)).toEqual({ model: 'gpt-4o prod', messages: [], stream: true })
    expect(['2024-02-01', '2024-08-01-preview'].map(acceptsStreamOptions)).toEqual([false, false])
    expect(['2024-09-01-preview', '2024-10-21', '2025-04-01-preview', 'latest', 'v1'].map(acceptsStreamOptions)).toEqual([true, true, true, true, true])
  })

  test("Azure's error shapes become OpenAI's envelope with the status kept", () => {
    const rateLimited = { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after 6 seconds.' } }
    expect(azureProvider.mapError(call(), 429, JSON.stringify(rateLimited))).toEqual({
      status: 429,
      body: { error: { message: rateLimited.error.message, type: 'rate_limit_error', param: null, code: 429 } },
    })
    expect(azureProvider.mapError(call(), 404, '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}').body).toEqual({
      error: { message: 'The API deployment for this resource does not exist.', type: 'not_found_error', param: null, code: 404 },
    })
    expect(azureProvider.mapError(call(), 500, '{"error":{"code":"500","message":"boom"}}').body).toEqual({
      error: { message: 'boom', type: 'upstream_error', param: null, code: 500 },
    })
    expect(azureProvider.mapError(call(), 429, '{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}').body).toEqual({
      error: { message: 'Rate limit is exceeded. Try again in 1 seconds.', type: 'rate_limit_error', param: null, code: 429 },
    })
    expect(azureProvider.mapError(call(), 503, 'Service Unavailable').body).toEqual({
      error: { message: 'Service Unavailable', type: 'service_unavailable', param: null, code: 503 },
    })
  })

  test('an error Azure already words as OpenAI does is kept as sent', () => {
    const openAiShaped = { error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }
    expect(azureProvider.mapError(call(), 400, JSON.stringify(openAiShaped))).toEqual({ status: 400, body: openAiShaped })
  })

  test('a content-filter refusal is a 400 content_policy_violation naming the filtered categories', () => {
    expect(azureProvider.mapError(call(), 400, JSON.stringify(AZURE_CONTENT_FILTER_ERROR))).toEqual({
      status: 400,
      body: {
        error: {
          message: `${AZURE_CONTENT_FILTER_ERROR.error.message} (filtered: violence)`,
          type: 'content_policy_violation',
          param: 'prompt',
          code: 400,
        },
      },
    })
  })

  test("stream events in: OpenAI's chunks pass through; Azure-worded in-band errors get a type and a numeric code", () => {
    const decoder = azureProvider.streamDecoder(call('chat', true))
    const frames = [
      'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]}\n\n',
      'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
      'data: {"error":{"code":"429","message":"Rate limit reached"}}\n\n',
    ]
    const events = decoder.push(new TextEncoder().encode(frames.join('')))
    expect(events.map((e) => e.kind)).toEqual(['chunk', 'chunk', 'error'])
    expect(events[1]).toEqual({ kind: 'chunk', chunk: { id: 'c1', choices: [{ index: 0, delta: { content: 'Hi' } }] }, raw: '{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}' })
    expect(events[2]).toEqual({ kind: 'error', error: { message: 'Rate limit reached', type: 'rate_limit_error', param: null, code: 429 } })
    const openAiWorded = azureProvider.streamDecoder(call('chat', true)).push(new TextEncoder().encode('data: {"error":{"message":"m","type":"server_error","param":null,"code":null}}\n\n'))
    expect(openAiWorded).toEqual([{ kind: 'error', error: { message: 'm', type: 'server_error', param: null, code: null } }])
  })
})
