/**
 * Anthropic's Messages API payloads that Tollgate reads (https://docs.anthropic.com/en/api/messages): the
 * message, the stream events and the error body. Objects are loose — Anthropic adds fields over time — and
 * content blocks of kinds Tollgate does not translate (server tools, citations …) parse as `{ type }` only.
 */
import { z } from 'zod'

export const ANTHROPIC_VERSION = '2023-06-01'

const tokens = z.number().int().nonnegative()

export const usageSchema = z.looseObject({
  input_tokens: tokens.nullish(),
  output_tokens: tokens.nullish(),
  cache_creation_input_tokens: tokens.nullish(),
  cache_read_input_tokens: tokens.nullish(),
})
export type AnthropicUsage = z.infer<typeof usageSchema>

export const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() })
export const toolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
})
export const thinkingBlockSchema = z.looseObject({ type: z.literal('thinking'), thinking: z.string() })

/**
 * A kind Tollgate does not translate, reduced to `{ type: 'other', kind }` so the union narrows on `type`. A
 * known kind never lands here: a malformed text or tool_use block fails the parse instead of vanishing.
 */
const other = <K extends readonly string[]>(known: K) =>
  z
    .looseObject({ type: z.string().refine((type) => !known.includes(type)) })
    .transform((value) => ({ type: 'other' as const, kind: value.type }))

export const contentBlockSchema = z.union([textBlockSchema, toolUseBlockSchema, thinkingBlockSchema, other(['text', 'tool_use', 'thinking'])])
export type ContentBlock = z.infer<typeof contentBlockSchema>

export const messageSchema = z.looseObject({
  id: z.string(),
  type: z.literal('message'),
  model: z.string(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
})
export type AnthropicMessage = z.infer<typeof messageSchema>

export const errorDetailSchema = z.looseObject({ type: z.string(), message: z.string() })
export const errorBodySchema = z.looseObject({ type: z.literal('error'), error: errorDetailSchema })

const deltaSchema = z.union([
  z.looseObject({ type: z.literal('text_delta'), text: z.string() }),
  z.looseObject({ type: z.literal('input_json_delta'), partial_json: z.string() }),
  z.looseObject({ type: z.literal('thinking_delta'), thinking: z.string() }),
  other(['text_delta', 'input_json_delta', 'thinking_delta']),
])

export const streamEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('message_start'),
    message: z.looseObject({ id: z.string(), model: z.string(), usage: usageSchema.nullish() }),
  }),
  z.looseObject({ type: z.literal('content_block_start'), index: z.number().int(), content_block: contentBlockSchema }),
  z.looseObject({ type: z.literal('content_block_delta'), index: z.number().int(), delta: deltaSchema }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number().int() }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish() }),
    usage: usageSchema.nullish(),
  }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
  z.looseObject({ type: z.literal('error'), error: errorDetailSchema }),
])
export type StreamEventData = z.infer<typeof streamEventSchema>
