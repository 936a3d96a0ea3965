/**
 * The one place errors become HTTP responses. Domain code throws `ApiError`; schema failures become 422;
 * an unreachable database becomes 503; anything else is a 500 whose message never carries internals.
 */
import { Elysia } from 'elysia'
import type { Logger } from '../lib/logger'
import { ApiError, databaseUnavailable, errorEnvelope, errorResponse } from './errors'
import { validationError } from './validation'

export type ErrorHandlingDeps = { log: Logger; isConnectionError(error: unknown): boolean }

export function toErrorResponse(error: unknown, deps: ErrorHandlingDeps, request?: Request): Response {
  if (error instanceof ApiError) return errorResponse(error)
  if (deps.isConnectionError(error)) {
    deps.log.warn('database unreachable', { path: request ? new URL(request.url).pathname : undefined })
    return errorResponse(databaseUnavailable())
  }
  deps.log.error('unhandled error', {
    path: request ? new URL(request.url).pathname : undefined,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  })
  return Response.json(errorEnvelope(500, 'internal_server_error', 'Internal server error'), { status: 500 })
}

export function errorHandling(deps: ErrorHandlingDeps) {
  return new Elysia({ name: 'error-handling' }).onError({ as: 'global' }, ({ code, error, request }) => {
    switch (code) {
      case 'VALIDATION': {
        const failure = error as unknown as { type?: string; valueError?: unknown }
        const where = (['body', 'query', 'params', 'headers'] as const).find((w) => w === failure.type) ?? 'body'
        return errorResponse(validationError(failure.valueError as Parameters<typeof validationError>[0], where))
      }
      case 'NOT_FOUND':
        return Response.json(errorEnvelope(404, 'not_found_error', 'Not Found'), { status: 404 })
      case 'PARSE': {
        // Elysia wraps what a parser throws; our parser throws ApiError (bad JSON, body too large).
        const cause = (error as Error).cause
        if (cause instanceof ApiError) return errorResponse(cause)
        return Response.json(errorEnvelope(400, 'bad_request_error', 'Invalid request body'), { status: 400 })
      }
      default:
        return toErrorResponse(error, deps, request)
    }
  })
}
