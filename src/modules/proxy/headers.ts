/**
 * The response headers of a proxied request (§6.1). Values LiteLLM would print as `None` are left out, as
 * LiteLLM does; money is in Python float format.
 */
import type { Principal } from '../../auth/principal'
import { pythonFloat } from '../../lib/python-float'

export type ResponseHeaderInput = {
  readonly requestId: string
  readonly modelGroup: string
  readonly deploymentId: string
  readonly principal: Principal
  readonly attemptedRetries: number
  readonly attemptedFallbacks: number
  /** Non-stream responses only. */
  readonly cost: number | null
  readonly durationMs: number
  readonly overheadMs: number
  readonly admissionHeaders: Readonly<Record<string, string>>
  readonly upstreamHeaders: Headers | null
}

const milliseconds = (value: number) => pythonFloat(Math.round(Math.max(0, value) * 1000) / 1000)

export function proxyResponseHeaders(input: ResponseHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {
    'x-litellm-call-id': input.requestId,
    'x-litellm-model-group': input.modelGroup,
    'x-litellm-model-id': input.deploymentId,
    'x-litellm-attempted-retries': String(input.attemptedRetries),
    'x-litellm-attempted-fallbacks': String(input.attemptedFallbacks),
    'x-litellm-response-duration-ms': milliseconds(input.durationMs),
    'x-litellm-overhead-duration-ms': milliseconds(input.overheadMs),
  }
  if (input.cost !== null) headers['x-litellm-response-cost'] = pythonFloat(input.cost)
  const key = input.principal.key
  if (key) {
    headers['x-litellm-key-spend'] = pythonFloat(key.spend)
    if (key.maxBudget !== null) headers['x-litellm-key-max-budget'] = pythonFloat(key.maxBudget)
    if (key.tpmLimit !== null) headers['x-litellm-key-tpm-limit'] = String(key.tpmLimit)
    if (key.rpmLimit !== null) headers['x-litellm-key-rpm-limit'] = String(key.rpmLimit)
  }
  input.upstreamHeaders?.forEach((value, name) => {
    if (name.startsWith('x-ratelimit-') || name.startsWith('anthropic-ratelimit-')) headers[`llm_provider-${name}`] = value
  })
  Object.assign(headers, input.admissionHeaders)
  return headers
}
