/**
 * Request bodies: JSON whatever the Content-Type says (LiteLLM clients often omit it), bounded by
 * `general_settings.max_request_size_mb` both by Content-Length and while reading.
 */
import { Elysia } from 'elysia'
import { ApiError, payloadTooLarge } from './errors'
import { isDataPlanePath, routePath } from './paths'

export async function readBodyText(request: Request, limitBytes: number, limitMb: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limitBytes) throw payloadTooLarge(limitMb)
    return request.text()
  }
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limitBytes) {
      await reader.cancel().catch(() => {})
      throw payloadTooLarge(limitMb)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** JSON text → value; an empty body is null, malformed JSON a 400 naming the problem. */
export function parseJsonText(text: string, errorType: string): unknown {
  if (text.trim() === '') return null
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ApiError(400, errorType, `Invalid JSON in request body: ${(error as Error).message}`)
  }
}

/** What data-plane routes receive as `body`: they read the request body themselves, after authentication. */
export const DEFERRED_BODY = Object.freeze({ deferred: true })

/** Parses every request body as JSON; an empty body is `undefined`, malformed JSON a 400 naming the problem. */
export function jsonBodies(maxRequestSizeMb: number) {
  const limitBytes = Math.floor(maxRequestSizeMb * 1024 * 1024)
  // Not an async function: data-plane requests (the hot path) get their answer without a promise.
  return new Elysia({ name: 'json-bodies' }).onParse({ as: 'global' }, ({ request, contentType }) => {
    if (contentType?.startsWith('multipart/form-data')) return
    // §6.3: the data plane checks the credential before it reads (up to max_request_size_mb of) the body.
    if (isDataPlanePath(routePath(request.url))) return DEFERRED_BODY
    return readBodyText(request, limitBytes, maxRequestSizeMb).then((text) => parseJsonText(text, 'bad_request_error'))
  })
}
