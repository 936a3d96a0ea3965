/**
 * The sliding 60-second window at 1-second granularity: a count is kept per second, and the window at second
 * `s` is the sum over `s - 59 … s`. Counts are plain `[second, count]` pairs so the in-memory store and the
 * Redis script hand the decision the same shape.
 */
export const WINDOW_SECONDS = 60

/** `[second since the epoch, count]` pairs; seconds outside the window are ignored. */
export type SecondCounts = ReadonlyArray<readonly [second: number, count: number]>

export function secondOf(ms: number): number {
  return Math.floor(ms / 1000)
}

/** The sum over the window that ends at `second` (that second and the 59 before it). */
export function windowTotal(counts: SecondCounts, second: number): number {
  const oldest = second - WINDOW_SECONDS + 1
  let total = 0
  for (const [at, count] of counts) if (at >= oldest && at <= second) total += count
  return total
}

/**
 * Whole seconds until the window, receiving nothing new, holds less than `limit` — when a refused request
 * would be admitted. At least 1 (the caller is refused now) and at most 60 (everything has left by then;
 * a limit of 0 never admits, and 60 is the honest upper bound to tell a client).
 */
export function secondsUntilBelow(counts: SecondCounts, second: number, limit: number): number {
  // Counts stamped after `second` (another instance's clock slightly ahead) are not part of this window.
  const present = counts.filter(([at]) => at <= second)
  for (let wait = 1; wait < WINDOW_SECONDS; wait++) {
    if (windowTotal(present, second + wait) < limit) return wait
  }
  return WINDOW_SECONDS
}
