import { describe, expect, test } from 'bun:test'
import { toDeployment } from '../../deployments/deployment'
import type { UpstreamCall } from '../types'
import { openAiProvider } from '.'

const deployment = (params: Record<string, unknown>) => toDeployment({ model_name: 'm', litellm_params: { model: 'openai/gpt-4o', ...params } as any }, 0)
const call = (params: Record<string, unknown>, operation: UpstreamCall['operation'] = 'chat', stream = false): UpstreamCall => ({
  operation,
  deployment: deployment(params),
  upstreamModel: 'gpt-4o',
  body: { model: 'gpt-4o', messages: [] },
  stream,
})

describe('the OpenAI-compatible provider', () => {
  test('request out: {api_base}{route}, bearer api key, the body as given; OpenAI by default', () => {
    const spec = openAiProvider.buildRequest(call({ api_base: 'http://host:8000/v1/', api_key: 'k' }))
    expect(spec).toEqual({
      url: 'http://host:8000/v1/chat/completions',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer k' },
      body: '{"model":"gpt-4o","messages":[]}',
    })
    expect(openAiProvider.buildRequest(call({}, 'embedding')).url).toBe('https://api.openai.com/v1/embeddings')
    expect(openAiProvider.buildRequest(call({}, 'completion', true)).headers).toEqual({ 'content-type': 'application/json', accept: 'text/event-stream' })
  })

  test('response in: the body passes through byte for byte; usage, id and text are read', () => {
    const text = '{"id":"x1","model":"gpt-4o","choices":[{"message":{"content":"hi","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1}}}'
    const parsed = openAiProvider.parseResponse(call({}), text)
    expect(parsed.bodyText).toBe(text)
    expect(parsed.usage).toEqual({ promptTokens: 3, completionTokens: 2, totalTokens: 5, cachedPromptTokens: 1 })
    expect(parsed.responseId).toBe('x1')
    expect(parsed.outputText()).toBe('hif{}')
    expect(openAiProvider.parseResponse(call({}), '{"data":[]}').usage).toBeNull()
    expect(() => openAiProvider.parseResponse(call({}), 'not json')).toThrow()
  })

  test('stream events in: chunks with their raw text, [DONE], in-band errors; junk is skipped', () => {
    const decoder = openAiProvider.streamDecoder(call({}, 'chat', true))
    const events = [
      ...decoder.push(new TextEncoder().encode('data: {"id":"c","choices":[]}\n\ndata: nope\n\ndata: {"error":{"message":"bad","type":"server_error"}}\n\n')),
      ...decoder.push(new TextEncoder().encode('data: [DONE]\n\n')),
      ...decoder.end(),
    ]
    expect(events).toEqual([
      { kind: 'chunk', chunk: { id: 'c', choices: [] }, raw: '{"id":"c","choices":[]}' },
      { kind: 'error', error: { message: 'bad', type: 'server_error', param: null, code: null } },
      { kind: 'done' },
    ])
  })

  test('error mapping keeps an OpenAI error body and wraps anything else', () => {
    const body = { error: { message: 'm', type: 't', param: 'p', code: 'c' } }
    expect(openAiProvider.mapError(call({}), 400, JSON.stringify(body))).toEqual({ status: 400, body })
    expect(openAiProvider.mapError(call({}), 502, '<html>bad gateway</html>')).toEqual({
      status: 502,
      body: { error: { message: '<html>bad gateway</html>', type: 'upstream_error', param: null, code: 502 } },
    })
    expect(openAiProvider.mapError(call({}), 500, '').body).toEqual({ error: { message: 'Upstream returned HTTP 500', type: 'upstream_error', param: null, code: 500 } })
  })
})
