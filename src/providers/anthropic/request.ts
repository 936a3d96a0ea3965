/**
 * An OpenAI chat request as an Anthropic Messages request (request out):
 *
 * - system and developer messages, wherever they are, become the top-level `system`;
 * - `tool` messages become `tool_result` blocks of a user turn, assistant `tool_calls` become `tool_use` blocks,
 *   and consecutive turns of one role are merged (Anthropic wants user and assistant to alternate);
 * - image parts: a base64 `data:` URL becomes a base64 source, an http(s) URL a url source (PDFs: documents);
 * - `max_tokens` is required upstream: the request's `max_completion_tokens`/`max_tokens`, else the
 *   deployment's `litellm_params.max_tokens`, `model_info.max_output_tokens`, `model_info.max_tokens`, else 4096;
 * - `stop` → `stop_sequences`, `tools`/`tool_choice`/`parallel_tool_calls` translated, `user` → `metadata.user_id`.
 *
 * What Anthropic cannot do (legacy completions, embeddings, `n` > 1, `logprobs`, non-text `response_format`,
 * audio) is refused with a 400 that says so, rather than silently answered differently.
 */
import { ProviderRequestError, type UpstreamCall } from '../types'

type Block = Record<string, unknown>
type Turn = { role: 'user' | 'assistant'; content: Block[] }

export const DEFAULT_MAX_TOKENS = 4096

const isObject = (value: unknown): value is Record<string, any> => !!value && typeof value === 'object' && !Array.isArray(value)

function refuse(param: string, problem: string): never {
  throw new ProviderRequestError(`${param}: ${problem}`, param)
}

/** Anthropic's prompt-caching marker, kept on the block it was set on. */
function withCacheControl(block: Block, source: Record<string, any>): Block {
  return isObject(source.cache_control) ? { ...block, cache_control: source.cache_control } : block
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*);base64,/i

/** An image (or PDF) given by URL: base64 `data:` URLs are inlined, http(s) URLs are fetched by Anthropic. */
function mediaBlock(url: unknown, at: string): Block {
  if (typeof url !== 'string') refuse(at, 'expected an image URL')
  const data = DATA_URL.exec(url)
  if (data) {
    const mediaType = data[1]!.toLowerCase()
    const type = mediaType === 'application/pdf' ? 'document' : mediaType.startsWith('image/') ? 'image' : null
    if (!type) refuse(at, `media type '${mediaType}' is not supported by Anthropic models`)
    return { type, source: { type: 'base64', media_type: mediaType, data: url.slice(data[0].length) } }
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } }
  refuse(at, 'expected a base64 data: URL or an http(s) URL')
}

/** One OpenAI content part as an Anthropic block; null for an empty text (Anthropic refuses empty text blocks). */
function partBlock(part: unknown, at: string, media: boolean): Block | null {
  if (!isObject(part)) refuse(at, 'expected an object')
  const type = part.type
  if (type === 'text') {
    if (typeof part.text !== 'string') refuse(`${at}.text`, 'expected string')
    return part.text === '' ? null : withCacheControl({ type: 'text', text: part.text }, part)
  }
  if (media && type === 'image_url') {
    const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url
    return withCacheControl(mediaBlock(url, `${at}.image_url.url`), part)
  }
  if (media && type === 'file' && typeof part.file?.file_data === 'string') {
    return withCacheControl(mediaBlock(part.file.file_data, `${at}.file.file_data`), part)
  }
  refuse(at, `content part type '${String(type)}' is not supported ${media ? 'by Anthropic models' : 'in this message'}`)
}

function contentBlocks(content: unknown, at: string, media: boolean): Block[] {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }]
  if (!Array.isArray(content)) refuse(at, 'expected string, array or null')
  const blocks: Block[] = []
  content.forEach((part, index) => {
    const block = partBlock(part, `${at}[${index}]`, media)
    if (block) blocks.push(block)
  })
  return blocks
}

/** Tool-call arguments (a JSON object in a string) as the `input` object Anthropic wants. */
function toolInput(args: unknown, at: string): Record<string, unknown> {
  if (args === undefined || args === null || (typeof args === 'string' && args.trim() === '')) return {}
  if (isObject(args)) return args
  let parsed: unknown
  try {
    parsed = typeof args === 'string' ? JSON.parse(args) : undefined
  } catch {}
  if (!isObject(parsed)) refuse(at, 'expected a JSON object')
  return parsed
}

function toolUseBlocks(toolCalls: unknown, at: string): Block[] {
  if (toolCalls === undefined || toolCalls === null) return []
  if (!Array.isArray(toolCalls)) refuse(at, 'expected array')
  return toolCalls.map((call, index) => {
    const where = `${at}[${index}]`
    if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== 'string') refuse(`${where}.function.name`, 'field required')
    if (typeof call.id !== 'string' || call.id === '') refuse(`${where}.id`, 'field required')
    return { type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments, `${where}.function.arguments`) }
  })
}

function toolResultBlock(message: Record<string, any>, at: string): Block {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') refuse(`${at}.tool_call_id`, 'field required')
  const block: Block = { type: 'tool_result', tool_use_id: message.tool_call_id }
  if (typeof message.content === 'string') {
    if (message.content !== '') block.content = message.content
  } else {
    const blocks = contentBlocks(message.content, `${at}.content`, true)
    if (blocks.length > 0) block.content = blocks
  }
  return block
}

function appendTurn(turns: Turn[], role: Turn['role'], blocks: Block[]): void {
  if (blocks.length === 0) return
  const last = turns.at(-1)
  if (last?.role === role) last.content.push(...blocks)
  else turns.push({ role, content: blocks })
}

/** Anthropic refuses a final assistant turn (a prefill) that ends in whitespace. */
function trimPrefill(turns: Turn[]): void {
  const last = turns.at(-1)
  if (last?.role !== 'assistant') return
  const block = last.content.at(-1)
  if (block?.type !== 'text' || typeof block.text !== 'string') return
  const text = block.text.trimEnd()
  if (text !== '') last.content[last.content.length - 1] = { ...block, text }
  else if (last.content.length > 1) last.content.pop()
  else turns.pop()
}

function translateMessages(messages: unknown): { system: Block[]; turns: Turn[] } {
  if (!Array.isArray(messages)) refuse('messages', 'expected array')
  const system: Block[] = []
  const turns: Turn[] = []
  messages.forEach((message: Record<string, any>, index) => {
    const at = `messages[${index}]`
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...contentBlocks(message.content, `${at}.content`, false))
        break
      case 'user':
        appendTurn(turns, 'user', contentBlocks(message.content, `${at}.content`, true))
        break
      case 'assistant':
        appendTurn(turns, 'assistant', [...contentBlocks(message.content, `${at}.content`, false), ...toolUseBlocks(message.tool_calls, `${at}.tool_calls`)])
        break
      case 'tool':
        appendTurn(turns, 'user', [toolResultBlock(message, at)])
        break
      default:
        refuse(`${at}.role`, `role '${String(message.role)}' is not supported by Anthropic models (use 'tool' messages for tool results)`)
    }
  })
  trimPrefill(turns)
  return { system, turns }
}

function maxTokensOf(call: UpstreamCall): number {
  for (const field of ['max_completion_tokens', 'max_tokens'] as const) {
    const value = call.body[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) refuse(field, 'expected a positive integer')
    return value
  }
  const { litellm_params: params, model_info: info } = call.deployment.config
  return params.max_tokens ?? info?.max_output_tokens ?? info?.max_tokens ?? DEFAULT_MAX_TOKENS
}

function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined
  if (typeof stop === 'string') return [stop]
  if (Array.isArray(stop) && stop.every((item) => typeof item === 'string')) return stop
  refuse('stop', 'expected string or array of strings')
}

function translateTools(tools: unknown): Block[] | undefined {
  if (tools === undefined || tools === null) return undefined
  if (!Array.isArray(tools)) refuse('tools', 'expected array')
  return tools.map((tool, index) => {
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function) || typeof tool.function.name !== 'string') {
      refuse(`tools[${index}]`, 'only function tools with a name are supported by Anthropic models')
    }
    const fn = tool.function
    const block: Block = { name: fn.name }
    if (typeof fn.description === 'string') block.description = fn.description
    block.input_schema = isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} }
    return withCacheControl(block, tool)
  })
}

function translateToolChoice(choice: unknown, parallel: unknown, hasTools: boolean): Block | undefined {
  let out: Block | undefined
  if (choice === 'auto') out = { type: 'auto' }
  else if (choice === 'required') out = { type: 'any' }
  else if (choice === 'none') out = { type: 'none' }
  else if (isObject(choice) && choice.type === 'function' && typeof choice.function?.name === 'string') out = { type: 'tool', name: choice.function.name }
  else if (choice !== undefined && choice !== null) refuse('tool_choice', "expected 'auto', 'required', 'none' or a function")
  if (parallel === false && hasTools && out?.type !== 'none') out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true }
  return out
}

/** OpenAI parameters whose meaning Anthropic cannot honour: refused rather than dropped. */
function refuseUnsupported(body: Readonly<Record<string, unknown>>): void {
  if (typeof body.n === 'number' && body.n > 1) refuse('n', 'Anthropic models return one choice; n > 1 is not supported')
  if (body.logprobs === true) refuse('logprobs', 'not supported by Anthropic models')
  const format = body.response_format
  if (isObject(format) && format.type !== 'text') refuse('response_format', `type '${String(format.type)}' is not supported by Anthropic models`)
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) refuse('modalities', 'audio output is not supported by Anthropic models')
}

function refuseOperation(call: UpstreamCall): void {
  if (call.operation === 'chat') return
  const route = call.operation === 'completion' ? '/completions (legacy text completions)' : '/embeddings (Anthropic has no embeddings API)'
  throw new ProviderRequestError(
    `model=${call.deployment.modelName} is an Anthropic chat model (${call.deployment.litellmModel}): ${route} is not available for it; use /chat/completions`,
  )
}

/** The JSON body of `POST /v1/messages` for an OpenAI chat call. */
export function messagesRequest(call: UpstreamCall): Record<string, unknown> {
  refuseOperation(call)
  const body = call.body
  refuseUnsupported(body)
  const { system, turns } = translateMessages(body.messages)
  const out: Record<string, unknown> = { model: call.upstreamModel, max_tokens: maxTokensOf(call) }
  if (system.length === 1 && !('cache_control' in system[0]!)) out.system = system[0]!.text
  else if (system.length > 0) out.system = system
  out.messages = turns
  const stop = stopSequences(body.stop)
  if (stop) out.stop_sequences = stop
  for (const field of ['temperature', 'top_p', 'top_k'] as const) if (typeof body[field] === 'number') out[field] = body[field]
  const tools = translateTools(body.tools)
  if (tools) out.tools = tools
  const toolChoice = translateToolChoice(body.tool_choice, body.parallel_tool_calls, (tools?.length ?? 0) > 0)
  if (toolChoice) out.tool_choice = toolChoice
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user }
  if (call.stream) out.stream = true
  return out
}
