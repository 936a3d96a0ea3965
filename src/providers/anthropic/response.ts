/**
 * Anthropic's answers in OpenAI's shapes (response in): the message as a `chat.completion`, stop reasons as
 * finish reasons, and usage as OpenAI's usage object. Shared by the JSON answer and the stream decoder.
 */
import type { AnthropicMessage, AnthropicUsage } from './wire'

const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}

/** Anthropic's `stop_reason` as OpenAI's `finish_reason` (an unknown reason reads as `stop`). */
export function finishReasonOf(stopReason: string | null | undefined): string | null {
  if (stopReason === null || stopReason === undefined) return null
  return FINISH_REASONS[stopReason] ?? 'stop'
}

/** Token counts as Anthropic reports them; later reports (message_delta) replace earlier ones field by field. */
export type UsageCounts = { input: number; output: number; cacheRead: number; cacheCreation: number }

export const NO_USAGE_COUNTS: UsageCounts = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 }

export function mergeUsage(counts: UsageCounts, usage: AnthropicUsage | null | undefined): UsageCounts {
  if (!usage) return counts
  return {
    input: usage.input_tokens ?? counts.input,
    output: usage.output_tokens ?? counts.output,
    cacheRead: usage.cache_read_input_tokens ?? counts.cacheRead,
    cacheCreation: usage.cache_creation_input_tokens ?? counts.cacheCreation,
  }
}

/**
 * OpenAI's usage object. Anthropic's `input_tokens` excludes the prompt read from or written to its cache, so
 * `prompt_tokens` adds both back; the cache reads are `prompt_tokens_details.cached_tokens` (priced at
 * `cache_read_input_token_cost` when configured), and the cache writes are reported as
 * `cache_creation_input_tokens`, as LiteLLM does.
 */
export function openAiUsage(counts: UsageCounts): Record<string, unknown> {
  const prompt = counts.input + counts.cacheRead + counts.cacheCreation
  const usage: Record<string, unknown> = {
    prompt_tokens: prompt,
    completion_tokens: counts.output,
    total_tokens: prompt + counts.output,
    prompt_tokens_details: { cached_tokens: counts.cacheRead },
  }
  if (counts.cacheCreation > 0) usage.cache_creation_input_tokens = counts.cacheCreation
  return usage
}

export const toolCallArguments = (input: unknown): string => JSON.stringify(input ?? {})

/** A whole Anthropic message as OpenAI's chat completion. */
export function chatCompletionOf(message: AnthropicMessage, created: number): Record<string, unknown> {
  let text = ''
  let reasoning = ''
  const toolCalls: Record<string, unknown>[] = []
  for (const block of message.content) {
    if (block.type === 'text') text += block.text
    else if (block.type === 'thinking') reasoning += block.thinking
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: toolCallArguments(block.input) } })
    }
  }
  const reply: Record<string, unknown> = { role: 'assistant', content: text !== '' || toolCalls.length === 0 ? text : null }
  if (toolCalls.length > 0) reply.tool_calls = toolCalls
  if (reasoning !== '') reply.reasoning_content = reasoning
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: finishReasonOf(message.stop_reason) ?? 'stop' }],
    usage: openAiUsage(mergeUsage(NO_USAGE_COUNTS, message.usage)),
  }
}
