/**
 * Token estimates for text without a tokenizer at hand: about 4 bytes of UTF-8 per token (OpenAI's rule of
 * thumb for English; o200k averages a little more per token), plus the chat framing LiteLLM counts (3 per
 * message, 3 for the reply). Used by `/spend/calculate` for a price before a call; settled requests use the
 * upstream's usage.
 */
const BYTES_PER_TOKEN = 4

export function estimateTextTokens(text: string): number {
  return text ? Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN) : 0
}

/** The text of a message's content: a string, or the `text` of its parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('')
}

export function estimatePromptTokens(messages: readonly unknown[]): number {
  let tokens = 3
  for (const message of messages) {
    tokens += 3
    if (!message || typeof message !== 'object') continue
    const { content, name } = message as { content?: unknown; name?: unknown }
    tokens += estimateTextTokens(contentText(content))
    if (typeof name === 'string') tokens += estimateTextTokens(name)
  }
  return tokens
}
