/**
 * The one error type a request can end with, and its wire form: LiteLLM's envelope
 * `{"error": {"message", "type", "param", "code"}}` with `code` the HTTP status as a number.
 *
 * Field names avoid `code`: Elysia's onError reads `error.code` to classify errors.
 */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly errorType: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export const badRequest = (message: string, param: string | null = null) => new ApiError(400, 'bad_request_error', message, param)
export const invalidRequest = (message: string, param: string | null = null) =>
  new ApiError(400, 'invalid_request_error', message, param)
export const unauthorized = (message: string, type = 'auth_error', param: string | null = null) =>
  new ApiError(401, type, message, param)
export const forbidden = (message: string, type = 'auth_error') => new ApiError(403, type, message)
export const notFound = (message: string, param: string | null = null) => new ApiError(404, 'not_found_error', message, param)
export const conflict = (message: string, param: string | null = null) => new ApiError(409, 'bad_request_error', message, param)
export const unprocessable = (message: string, param: string | null = null) =>
  new ApiError(422, 'validation_error', message, param)
export const payloadTooLarge = (limitMb: number) =>
  new ApiError(413, 'invalid_request_error', `Request body too large: limit is ${limitMb} MB`)
export const databaseUnavailable = () => new ApiError(503, 'service_unavailable', 'Database unavailable; retry later')

export type ErrorEnvelope = { error: { message: string; type: string; param: string | null; code: number } }

export function errorEnvelope(status: number, type: string, message: string, param: string | null = null): ErrorEnvelope {
  return { error: { message, type, param, code: status } }
}

export function errorResponse(error: ApiError): Response {
  return Response.json(errorEnvelope(error.httpStatus, error.errorType, error.message, error.param), {
    status: error.httpStatus,
    headers: error.headers,
  })
}
