import { describe, expect, test } from 'bun:test'
import { SseParser } from './sse'

describe('the SSE parser', () => {
  test('messages split anywhere, CRLF, comments, multi-line data and a last message without a blank line', () => {
    const parser = new SseParser()
    const bytes = new TextEncoder().encode('data: {"a":1}\r\n\r\n: ping\n\nevent: delta\ndata: line1\ndata: line2\n\ndata: é✓\n\ndata:tail')
    const out = []
    for (let i = 0; i < bytes.length; i += 3) out.push(...parser.push(bytes.slice(i, i + 3)))
    out.push(...parser.end())
    expect(out).toEqual([
      { event: null, data: '{"a":1}' },
      { event: 'delta', data: 'line1\nline2' },
      { event: null, data: 'é✓' },
      { event: null, data: 'tail' },
    ])
  })
})
