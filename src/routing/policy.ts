/**
 * What a failed attempt means for the rest of the request (§6.8):
 *
 * - retried (`num_retries`): 408, 429, 5xx, timeouts and connection errors;
 * - counted against the deployment (cooldowns): those, and 401/403/404 (a deployment that is misconfigured);
 * - followed by fallbacks: every failure except the client's own — a cancelled request, or a 4xx that another
 *   model would refuse too (LiteLLM: "don't fall back on a malformed request"); a context-window error goes to
 *   `context_window_fallbacks` instead;
 * - the wait before a retry: exponential backoff with jitter, at least the upstream's `Retry-After` (up to
 *   10 s) when the retry goes back to a deployment that already failed this request; none when it goes to
 *   one that has not failed yet.
 */
import type { AttemptFailure } from './router'
import type { Random } from './strategies'

export const MAX_RETRY_AFTER_SECONDS = 10
const INITIAL_BACKOFF_MS = 500
const MAX_BACKOFF_MS = 8_000

const isServerError = (status: number | null) => status !== null && status >= 500

export function isRetryable(failure: AttemptFailure): boolean {
  if (failure.kind === 'timeout' || failure.kind === 'connection') return true
  if (failure.kind !== 'http') return false
  return failure.status === 408 || failure.status === 429 || isServerError(failure.status)
}

export function countsAgainstDeployment(failure: AttemptFailure): boolean {
  if (isRetryable(failure)) return true
  return failure.kind === 'http' && (failure.status === 401 || failure.status === 403 || failure.status === 404)
}

export function fallsBack(failure: AttemptFailure): boolean {
  if (failure.kind === 'cancelled') return false
  if (failure.contextWindowExceeded) return true
  return countsAgainstDeployment(failure)
}

/**
 * Milliseconds to wait before retry number `retry` (1-based) on a deployment whose last failure this request
 * was `failure`: 0.5 s doubling up to 8 s, times a jitter in [0.5, 1); never less than its `Retry-After`
 * (capped at 10 s).
 */
export function backoffMs(retry: number, failure: AttemptFailure, random: Random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.max(0, retry - 1))
  const jittered = exponential * (0.5 + random() / 2)
  const retryAfterMs = failure.retryAfterSeconds === null ? 0 : Math.min(failure.retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) * 1000
  return Math.max(jittered, retryAfterMs)
}

/** Phrases upstreams use when a prompt does not fit the model (OpenAI, Azure, Anthropic, vLLM, Ollama …). */
const CONTEXT_WINDOW_PATTERNS = [
  /context[_ ]length[_ ]exceeded/i,
  /maximum context length/i,
  /context window/i,
  /prompt is too long/i,
  /input is too long/i,
  /too many tokens/i,
  /exceeds? the (?:model'?s? )?(?:maximum )?(?:context|token limit)/i,
]

/** Whether an upstream error (status and OpenAI-shaped body) says the prompt is longer than the context window. */
export function isContextWindowError(status: number, body: unknown): boolean {
  if (status !== 400 && status !== 413 && status !== 422) return false
  const error = (body as { error?: { message?: unknown; code?: unknown; type?: unknown } } | null)?.error
  if (!error) return false
  const text = [error.code, error.type, error.message].filter((part) => typeof part === 'string').join(' ')
  return CONTEXT_WINDOW_PATTERNS.some((pattern) => pattern.test(text))
}
