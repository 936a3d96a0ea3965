/**
 * What a request may cost before it is sent (§6.4): `prompt_bound` (an upper bound on prompt tokens: UTF-8
 * bytes of all message and tool text + 8 per message; a non-text part counts as the model's
 * `max_input_tokens`, else 8192), `max_out` (the request's `max_tokens`/`max_completion_tokens`, else the
 * model's `max_output_tokens`/`max_tokens`, else 4096), and the model group's price. Pure.
 */
import type { ModelTarget } from '../../deployments/catalog'
import { upstreamModelFor } from '../../deployments/deployment'
import type { Pricing } from '../../spend/prices'
import type { CallType } from '../../usage/record'

export const DEFAULT_MAX_OUT = 4096
const NON_TEXT_TOKENS = 8192
const PER_MESSAGE = 8

/** The price a request is estimated at: the dearest deployment of its group (the router may pick any). */
export type GroupPrice = {
  readonly input: number
  readonly output: number
  /** Every deployment's configured prices are all explicitly 0: no budget applies. */
  readonly free: boolean
  /** Every deployment has a price (configured or built in). */
  readonly priced: boolean
}

export function groupPrice(target: ModelTarget, pricing: Pricing): GroupPrice {
  const prices = target.deployments.map((deployment) => pricing.priceOf(deployment, upstreamModelFor(deployment, target.modelGroup)))
  return {
    input: Math.max(0, ...prices.map((price) => price.input)),
    output: Math.max(0, ...prices.map((price) => price.output)),
    free: prices.length > 0 && prices.every((price) => price.free),
    priced: prices.every((price) => price.priced),
  }
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8')
const jsonBytes = (value: unknown) => (value === undefined || value === null ? 0 : utf8(typeof value === 'string' ? value : JSON.stringify(value)))

function contentBytes(content: unknown, nonText: number): number {
  if (typeof content === 'string') return utf8(content)
  if (!Array.isArray(content)) return jsonBytes(content)
  let total = 0
  for (const part of content) {
    if (typeof part === 'string') total += utf8(part)
    else if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') total += utf8((part as { text: string }).text)
    else total += nonText
  }
  return total
}

/** Strings count their bytes, token-id arrays their length, each input +8. */
function inputBound(input: unknown): number {
  const one = (item: unknown) => PER_MESSAGE + (typeof item === 'string' ? utf8(item) : Array.isArray(item) ? item.length : jsonBytes(item))
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string' || Array.isArray(item))) {
    return input.reduce((sum: number, item) => sum + one(item), 0)
  }
  return one(input)
}

export function promptBound(callType: CallType, body: Readonly<Record<string, unknown>>, maxInputTokens: number | null): number {
  if (callType === 'atext_completion') return inputBound(body.prompt)
  if (callType === 'aembedding') return inputBound(body.input)
  const nonText = maxInputTokens ?? NON_TEXT_TOKENS
  let total = jsonBytes(body.tools) + jsonBytes(body.functions)
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    const m = (message ?? {}) as Record<string, unknown>
    total += PER_MESSAGE + contentBytes(m.content, nonText) + jsonBytes(m.name) + jsonBytes(m.tool_calls) + jsonBytes(m.function_call)
  }
  return total
}

const positiveInteger = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null)

/** Which field the client bounded its output with (strict mode caps that one). */
export function outputField(body: Readonly<Record<string, unknown>>): 'max_tokens' | 'max_completion_tokens' {
  return positiveInteger(body.max_tokens) === null && positiveInteger(body.max_completion_tokens) !== null ? 'max_completion_tokens' : 'max_tokens'
}

export function maxOut(callType: CallType, body: Readonly<Record<string, unknown>>, target: ModelTarget): number {
  if (callType === 'aembedding') return 0
  const asked = positiveInteger(body.max_tokens) ?? positiveInteger(body.max_completion_tokens)
  if (asked !== null) return asked
  const configured = target.deployments
    .map((deployment) => positiveInteger(deployment.config.model_info?.max_output_tokens) ?? positiveInteger(deployment.config.model_info?.max_tokens))
    .filter((value): value is number => value !== null)
  return configured.length > 0 ? Math.max(...configured) : DEFAULT_MAX_OUT
}

export function maxInputTokens(target: ModelTarget): number | null {
  const configured = target.deployments.map((d) => positiveInteger(d.config.model_info?.max_input_tokens)).filter((v): v is number => v !== null)
  return configured.length > 0 ? Math.max(...configured) : null
}

/** The request's estimate: `prompt_bound × input + max_out × output` (the strict worst case too). */
export type RequestEstimate = { readonly promptCost: number; readonly outputPrice: number; readonly maxOut: number; readonly total: number }

export function estimateRequest(
  callType: CallType,
  body: Readonly<Record<string, unknown>>,
  target: ModelTarget,
  price: Pick<GroupPrice, 'input' | 'output'>,
): RequestEstimate {
  const promptCost = promptBound(callType, body, maxInputTokens(target)) * price.input
  const out = maxOut(callType, body, target)
  return { promptCost, outputPrice: price.output, maxOut: out, total: promptCost + out * price.output }
}
