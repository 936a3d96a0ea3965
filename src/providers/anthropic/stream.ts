/**
 * Anthropic's SSE events as OpenAI chunks (stream events in):
 *
 * - `message_start` → the first chunk (`delta.role`), and the prompt's usage;
 * - `content_block_start` of a tool_use → a tool call chunk with its id and name (indexes count tool calls,
 *   not content blocks); `content_block_delta` → `delta.content` (text_delta), the tool call's next piece of
 *   `arguments` (input_json_delta) or `delta.reasoning_content` (thinking_delta);
 * - `message_delta` → the chunk with `finish_reason`, and the final output tokens;
 * - `message_stop` → one usage chunk (`choices: []`, OpenAI's include_usage shape, which the relay strips when
 *   the client did not ask for it) and the end of the stream; `error` → an in-band error;
 * - `ping`, `content_block_stop` and event kinds Tollgate does not know are dropped.
 */
import { SseParser, type SseMessage } from '../../lib/sse'
import type { StreamDecoder, StreamEvent } from '../types'
import { streamErrorOf } from './errors'
import { NO_USAGE_COUNTS, finishReasonOf, mergeUsage, openAiUsage, type UsageCounts } from './response'
import { streamEventSchema, type StreamEventData } from './wire'

export class AnthropicStreamDecoder implements StreamDecoder {
  private readonly parser = new SseParser()
  private id = ''
  private model: string
  private usage: UsageCounts = NO_USAGE_COUNTS
  /** Content block index → OpenAI tool call index. */
  private readonly toolCalls = new Map<number, number>()
  private sawFinish = false
  private ended = false

  constructor(
    model: string,
    private readonly created: number,
  ) {
    this.model = model
  }

  push(bytes: Uint8Array): StreamEvent[] {
    return this.decode(this.parser.push(bytes))
  }

  end(): StreamEvent[] {
    const events = this.decode(this.parser.end())
    // Cut after message_delta but before message_stop: the answer was complete and its usage known.
    if (!this.ended && this.sawFinish) events.push(this.usageChunk())
    return events
  }

  private decode(messages: SseMessage[]): StreamEvent[] {
    const events: StreamEvent[] = []
    for (const { data } of messages) {
      if (this.ended) break
      let json: unknown
      try {
        json = JSON.parse(data)
      } catch {
        continue
      }
      const parsed = streamEventSchema.safeParse(json)
      if (parsed.success) this.translate(parsed.data, events)
    }
    return events
  }

  private translate(event: StreamEventData, out: StreamEvent[]): void {
    switch (event.type) {
      case 'message_start':
        this.id = event.message.id
        this.model = event.message.model
        this.usage = mergeUsage(this.usage, event.message.usage)
        out.push(this.chunk({ role: 'assistant', content: '' }))
        return
      case 'content_block_start': {
        const block = event.content_block
        if (block.type === 'text' && block.text !== '') out.push(this.chunk({ content: block.text }))
        if (block.type !== 'tool_use') return
        const index = this.toolCalls.size
        this.toolCalls.set(event.index, index)
        out.push(this.chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] }))
        return
      }
      case 'content_block_delta': {
        const delta = event.delta
        if (delta.type === 'text_delta') out.push(this.chunk({ content: delta.text }))
        else if (delta.type === 'thinking_delta') out.push(this.chunk({ reasoning_content: delta.thinking }))
        else if (delta.type === 'input_json_delta' && delta.partial_json !== '') {
          const index = this.toolCalls.get(event.index)
          if (index !== undefined) out.push(this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }))
        }
        return
      }
      case 'message_delta':
        this.usage = mergeUsage(this.usage, event.usage)
        if (event.delta.stop_reason) {
          this.sawFinish = true
          out.push(this.chunk({}, finishReasonOf(event.delta.stop_reason)))
        }
        return
      case 'message_stop':
        out.push(this.usageChunk(), { kind: 'done' })
        this.ended = true
        return
      case 'error':
        out.push({ kind: 'error', error: streamErrorOf(event.error) })
        this.ended = true
        return
      default:
        return // ping, content_block_stop
    }
  }

  private base(): Record<string, unknown> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model }
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): StreamEvent {
    return { kind: 'chunk', chunk: { ...this.base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] }, raw: null }
  }

  private usageChunk(): StreamEvent {
    this.ended = true
    return { kind: 'chunk', chunk: { ...this.base(), choices: [], usage: openAiUsage(this.usage) }, raw: null }
  }
}
