/**
 * Relays an upstream SSE body to the client chunk by chunk, as it arrives (§6.6, §6.8):
 *
 * - pull-based: the upstream is read only when the client's side asks for more (backpressure);
 * - usage: taken from the final usage chunk; when the client did not ask for it, that chunk (and `usage` on
 *   any other chunk) is removed; when it did, the usage chunk gets a `cost` field (USD) inside `usage`;
 * - `: keepalive` after `keepaliveMs` of upstream silence;
 * - an upstream error event, a broken connection or an unfinished end after the first byte → one
 *   `data: {"error": …}` event and the end of the stream (no `[DONE]`), recorded as a failure;
 * - the client going away (cancel) aborts the upstream and records what was generated so far.
 *
 * `finish` runs exactly once, before the client sees the end of the stream.
 */
import { SSE_DONE, SSE_KEEPALIVE, sseData } from '../../lib/sse'
import { chunkText, usageFromOpenAi } from '../../providers/openai-format'
import type { OpenAiError, StreamDecoder, StreamEvent, TokenUsage } from '../../providers/types'
import type { UsageError, UsageStatus } from '../../usage/record'

export type StreamResult = {
  readonly status: UsageStatus
  readonly error: UsageError | null
  readonly usage: TokenUsage | null
  /** Everything generated (delta text, legacy text, tool-call arguments), for estimates. */
  readonly text: string
  /** Chunks that carried generated text. */
  readonly contentChunks: number
  readonly responseId: string | null
  /** Clock time of the first chunk with choices. */
  readonly firstChunkAt: number | null
}

export type RelayOptions = {
  readonly body: ReadableStream<Uint8Array>
  readonly decoder: StreamDecoder
  readonly clientWantsUsage: boolean
  readonly keepaliveMs: number
  now(): number
  /** The cost added to a usage chunk the client asked for. */
  costOf(usage: TokenUsage): number
  abortUpstream(): void
  finish(result: StreamResult): Promise<unknown>
}

export type Relay = {
  readonly stream: ReadableStream<Uint8Array>
  /** The client went away (also what the stream's own cancel does). */
  cancel(): Promise<void>
}

const encoder = new TextEncoder()

const LOST: OpenAiError = { message: 'The upstream connection was lost before the response was complete', type: 'upstream_connection_error', param: null, code: 502 }
const UNFINISHED: OpenAiError = { message: 'The upstream ended the stream before the response was complete', type: 'upstream_error', param: null, code: 502 }

function usageErrorOf(error: OpenAiError, errorClass: string): UsageError {
  return { type: error.type, message: error.message, status: typeof error.code === 'number' ? error.code : 500, errorClass }
}

export function relayStream(options: RelayOptions): Relay {
  const reader = options.body.getReader()
  let usage: TokenUsage | null = null
  let text = ''
  let contentChunks = 0
  let responseId: string | null = null
  let firstChunkAt: number | null = null
  let sawFinishReason = false
  let finished = false
  let lastActivity = performance.now()
  let timer: ReturnType<typeof setTimeout> | null = null
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null

  const finish = async (status: UsageStatus, error: UsageError | null) => {
    if (finished) return false
    finished = true
    if (timer) clearTimeout(timer)
    await options.finish({ status, error, usage, text, contentChunks, responseId, firstChunkAt })
    return true
  }

  const keepalive = () => {
    if (finished) return
    const silent = performance.now() - lastActivity
    if (silent >= options.keepaliveMs) {
      try {
        controller?.enqueue(encoder.encode(SSE_KEEPALIVE))
      } catch {}
      lastActivity = performance.now()
    }
    timer = setTimeout(keepalive, Math.max(1, options.keepaliveMs - (performance.now() - lastActivity)))
  }

  /** The client-facing text for a batch of events, and whether the stream ends with it. */
  const render = (events: StreamEvent[]): { out: string; end: 'done' | 'error' | null; error?: OpenAiError } => {
    let out = ''
    for (const event of events) {
      if (event.kind === 'done') return { out: out + SSE_DONE, end: 'done' }
      if (event.kind === 'error') return { out: out + sseData(JSON.stringify({ error: event.error })), end: 'error', error: event.error }
      const { chunk, raw } = event
      // Azure opens with a content-filter chunk whose id is "": the response id is the first real one.
      if (responseId === null && typeof chunk.id === 'string' && chunk.id !== '') responseId = chunk.id
      const choices = Array.isArray(chunk.choices) ? chunk.choices : null
      if (choices && choices.length > 0) {
        firstChunkAt ??= options.now()
        if (!sawFinishReason) sawFinishReason = choices.some((choice: any) => choice?.finish_reason)
      }
      const added = chunkText(chunk)
      if (added) {
        text += added
        contentChunks++
      }
      const chunkUsage = usageFromOpenAi(chunk.usage)
      if (chunkUsage) usage = chunkUsage
      if (!('usage' in chunk)) {
        out += sseData(raw ?? JSON.stringify(chunk))
      } else if (!options.clientWantsUsage) {
        if (!choices || choices.length === 0) continue // the usage chunk Tollgate asked for
        const { usage: _stripped, ...rest } = chunk
        out += sseData(JSON.stringify(rest))
      } else if (chunkUsage) {
        out += sseData(JSON.stringify({ ...chunk, usage: { ...chunk.usage, cost: options.costOf(chunkUsage) } }))
      } else {
        out += sseData(raw ?? JSON.stringify(chunk))
      }
    }
    return { out, end: null }
  }

  const endWithError = async (target: ReadableStreamDefaultController<Uint8Array>, error: OpenAiError, errorClass: string) => {
    target.enqueue(encoder.encode(sseData(JSON.stringify({ error }))))
    await finish('failure', usageErrorOf(error, errorClass))
    target.close()
  }

  const cancel = async () => {
    if (finished) return
    options.abortUpstream()
    reader.cancel().catch(() => {})
    await finish('client_disconnected', null)
  }

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        timer = setTimeout(keepalive, options.keepaliveMs)
      },
      async pull(c) {
        for (;;) {
          let result: Awaited<ReturnType<typeof reader.read>>
          try {
            result = await reader.read()
          } catch {
            if (!finished) await endWithError(c, LOST, 'APIConnectionError')
            return
          }
          if (finished) return
          lastActivity = performance.now()
          const rendered = render(result.done ? options.decoder.end() : options.decoder.push(result.value))
          if (rendered.out) c.enqueue(encoder.encode(rendered.out))
          if (rendered.end === 'done') {
            reader.cancel().catch(() => {})
            await finish('success', null)
            c.close()
            return
          }
          if (rendered.end === 'error') {
            reader.cancel().catch(() => {})
            await finish('failure', usageErrorOf(rendered.error!, 'MidStreamError'))
            c.close()
            return
          }
          if (result.done) {
            // Ended without [DONE]: complete if the model had finished, otherwise a truncated stream.
            if (sawFinishReason) {
              c.enqueue(encoder.encode(SSE_DONE))
              await finish('success', null)
              c.close()
            } else await endWithError(c, UNFINISHED, 'APIConnectionError')
            return
          }
          if (rendered.out) return
        }
      },
      cancel,
    },
    { highWaterMark: 0 },
  )
  return { stream, cancel }
}
