/**
 * The checks Anthropic's Messages API makes on a request before answering, worded as it words them (400
 * `invalid_request_error`), so that a translation mistake fails a test the way it would fail in production:
 * roles, alternation, empty text, tool_use/tool_result pairing, tools required by tool blocks.
 *
 * Alternation is checked the strict way the API used to (it now merges consecutive turns itself): a gateway
 * must not depend on that leniency.
 */
const isObject = (value: unknown): value is Record<string, any> => !!value && typeof value === 'object' && !Array.isArray(value)

const blocksOf = (content: unknown): Record<string, any>[] =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content.filter(isObject) : []

/** The first problem with a `/v1/messages` body, or null when Anthropic would accept it. */
export function anthropicRequestProblem(body: any): string | null {
  if (!isObject(body)) return 'body: expected an object'
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required'
  if (body.system !== undefined && typeof body.system !== 'string' && !(Array.isArray(body.system) && body.system.every((b: any) => b?.type === 'text'))) {
    return 'system: Input should be a valid string or a list of text blocks'
  }
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required'
  let usesTools = false
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]
    if (message?.role !== 'user' && message?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`
    if (i > 0 && messages[i - 1].role === message.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`
    }
    const blocks = blocksOf(message.content)
    if (blocks.length === 0) return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`
    for (const block of blocks) {
      if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) return 'messages: text content blocks must be non-empty'
      if (block.type === 'tool_use' || block.type === 'tool_result') usesTools = true
      if (block.type === 'image' && !['base64', 'url'].includes(block.source?.type)) return `messages.${i}: image source type must be base64 or url`
    }
    const previous = i > 0 ? blocksOf(messages[i - 1].content) : []
    const offered = new Set(previous.filter((b) => b.type === 'tool_use').map((b) => b.id))
    for (const block of blocks.filter((b) => b.type === 'tool_result')) {
      if (!offered.has(block.tool_use_id)) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
      }
    }
    const answered = new Set(blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id))
    const unanswered = [...offered].filter((id) => !answered.has(id))
    if (message.role === 'user' && unanswered.length > 0) {
      return `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}`
    }
  }
  if (usesTools && !(Array.isArray(body.tools) && body.tools.length > 0)) return 'Requests which include `tool_use` or `tool_result` blocks must define tools.'
  const last = messages.at(-1)
  if (last.role === 'assistant') {
    const text = blocksOf(last.content).at(-1)
    if (text?.type === 'text' && /\s$/.test(text.text)) return 'messages: final assistant content cannot end with trailing whitespace'
  }
  return null
}
