import { ApiError } from '../../http/errors'
import type { Refusal } from './decide'

/** The 429 of §6.5: names the exact level, id and limit type; carries `Retry-After` and the level's headers. */
export function rateLimitError(refusal: Refusal): ApiError {
  return new ApiError(
    429,
    'rate_limit_error',
    `Rate limit exceeded for ${refusal.level}: ${refusal.id}. Limit type: ${refusal.type}. Current limit: ${refusal.limit}, Remaining: 0.`,
    null,
    refusal.headers,
  )
}
