/**
 * Token estimates for when the upstream reports no usage, and for what a disconnected stream generated so far
 * (§6.6). The contract names the o200k tokenizer; with no tokenizer dependency allowed, this approximates it:
 * text is split the way o200k's pre-tokenizer splits it (a word with its leading space, up to three digits,
 * a run of punctuation, a run of whitespace), and each piece counts ~1 token per 6 characters of ASCII and
 * ~1 per 1.5 characters otherwise (CJK and other scripts merge far less). Close on ordinary prose, and never 0 for
 * non-empty text; the records it feeds carry `usage_estimated: true`.
 */

const PIECES = / ?[\p{L}\p{M}]+| ?\p{N}{1,3}| ?[^\s\p{L}\p{M}\p{N}]+|\s+/gu
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/

export function estimateTextTokens(text: string): number {
  if (!text) return 0
  let tokens = 0
  for (const match of text.matchAll(PIECES)) {
    const piece = match[0]
    tokens += ASCII.test(piece) ? Math.max(1, Math.ceil(piece.length / 6)) : Math.max(1, Math.ceil(piece.length / 1.5))
  }
  return tokens
}

/** Text of a message's `content` (a string, or the text parts of an array); other parts count 0 here. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let text = ''
  for (const part of content) if (part && typeof part.text === 'string') text += part.text
  return text
}

/** Chat prompt: text of every message (and its tool calls) + 3 per message + 3 for the reply. */
export function estimateChatPromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0
  let tokens = 3
  for (const message of messages) {
    if (!message || typeof message !== 'object') continue
    tokens += 3 + estimateTextTokens(contentText((message as any).content))
    const toolCalls = (message as any).tool_calls
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls) tokens += estimateTextTokens(`${call?.function?.name ?? ''}${call?.function?.arguments ?? ''}`)
    }
  }
  return tokens
}

/** Legacy completion prompt or embedding input: a string, a list of strings, or token arrays. */
export function estimateInputTokens(input: unknown): number {
  if (typeof input === 'string') return estimateTextTokens(input)
  if (!Array.isArray(input)) return 0
  if (input.every((item) => typeof item === 'number')) return input.length
  let tokens = 0
  for (const item of input) tokens += estimateInputTokens(item)
  return tokens
}
