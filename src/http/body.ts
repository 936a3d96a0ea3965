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

/** Parses every request body as JSON; an empty body is `undefined`, malformed JSON a 400 naming the problem. */
export function jsonBodies(maxRequestSizeMb: number) {
  const limitBytes = Math.floor(maxRequestSizeMb * 1024 * 1024)
  return new Elysia({ name: 'json-bodies' }).onParse({ as: 'global' }, async ({ request, contentType }) => {
    if (contentType?.startsWith('multipart/form-data')) return
    const text = await readBodyText(request, limitBytes, maxRequestSizeMb)
    if (text.trim() === '') return null
    try {
      return JSON.parse(text)
    } catch (error) {
      const type = isDataPlanePath(routePath(request.url)) ? 'invalid_request_error' : 'bad_request_error'
      throw new ApiError(400, type, `Invalid JSON in request body: ${(error as Error).message}`)
    }
  })
}
