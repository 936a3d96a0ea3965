/**
 * Server-sent events, both ways: an incremental parser for what upstreams send (bytes may split anywhere,
 * including inside a UTF-8 character or between `\r` and `\n`) and the few frames Tollgate writes.
 */

export type SseMessage = { event: string | null; data: string }

export const SSE_DONE = 'data: [DONE]\n\n'
export const SSE_KEEPALIVE = ': keepalive\n\n'

export function sseData(payload: string): string {
  return `data: ${payload}\n\n`
}

/** Feeds bytes in, gets complete messages out. Comments (`: …`) and `id:`/`retry:` fields are dropped. */
export class SseParser {
  private readonly decoder = new TextDecoder()
  private buffer = ''
  private event: string | null = null
  private data: string[] = []

  push(bytes: Uint8Array): SseMessage[] {
    return this.consume(this.decoder.decode(bytes, { stream: true }), false)
  }

  /** Flushes a last message that was not followed by a blank line. */
  end(): SseMessage[] {
    return this.consume(this.decoder.decode(), true)
  }

  private consume(text: string, final: boolean): SseMessage[] {
    this.buffer += text
    const out: SseMessage[] = []
    let start = 0
    for (;;) {
      const newline = this.buffer.indexOf('\n', start)
      if (newline === -1) break
      const end = newline > start && this.buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline
      this.line(this.buffer.slice(start, end), out)
      start = newline + 1
    }
    this.buffer = this.buffer.slice(start)
    if (final) {
      if (this.buffer.length > 0) this.line(this.buffer.replace(/\r$/, ''), out)
      this.buffer = ''
      this.line('', out)
    }
    return out
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') })
      this.event = null
      this.data = []
      return
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
  }
}
