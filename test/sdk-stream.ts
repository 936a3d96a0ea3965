/** The official SDK's streamed chat, read to the end: what the suites that drive the SDK check. */
import type OpenAI from 'openai'

/** Streams `hi` to `model` with `stream_options.include_usage` and returns the text and the usage chunk's usage. */
export async function streamedChatViaSdk(client: OpenAI, model: string): Promise<{ text: string; usage: any }> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  let text = ''
  let usage: any = null
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? ''
    if (chunk.usage) usage = chunk.usage
  }
  return { text, usage }
}
