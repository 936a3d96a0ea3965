/**
 * What the OpenAI-compatible routes accept, for `/openapi.json` only: the proxy reads and checks bodies itself
 * (`checkProxyBody`, after authentication) and forwards fields it does not consume, so these schemas are open.
 */
import { z } from 'zod'

const common = {
  model: z.string().describe('A model group, alias or wildcard name (GET /v1/models lists them)'),
  user: z.string().optional().describe('The end user (customer) the request is for'),
  metadata: z.record(z.string(), z.unknown()).optional().describe('`tags`, `spend_logs_metadata`; consumed, not forwarded'),
  litellm_metadata: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string()).optional(),
  fallbacks: z.array(z.string()).optional().describe('Models to try when this one fails'),
}

const message = z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional() })

export const chatCompletionDocs = z.looseObject({
  ...common,
  messages: z.array(message),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional(),
  max_tokens: z.number().int().optional(),
  max_completion_tokens: z.number().int().optional(),
  temperature: z.number().optional(),
  tools: z.array(z.unknown()).optional(),
})

export const completionDocs = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.unknown())]),
  stream: z.boolean().optional(),
  max_tokens: z.number().int().optional(),
})

export const embeddingDocs = z.looseObject({ ...common, input: z.union([z.string(), z.array(z.unknown())]) })
