/**
 * Budget admission decisions (§6.4), as values with a reason. Pure functions over numbers; the caller reads
 * committed spend and what this instance holds, and acts on the decision.
 */
import type { LevelBudget } from './levels'

/** One capped level's numbers at the moment of the decision. */
export type CappedState = {
  readonly level: LevelBudget & { readonly maxBudget: number }
  readonly committed: number
  /** Default mode: Σ in-flight estimates on this instance. Strict mode: Σ outstanding reservations. */
  readonly held: number
}

export type Decision =
  | { readonly kind: 'admit' }
  | { readonly kind: 'refuse'; readonly state: CappedState }
  | { readonly kind: 'wait'; readonly state: CappedState }

/**
 * Default mode: refuse when any level has `committed >= max_budget` (the first, in level order); admit when
 * every level has `committed + Σ in-flight < max_budget` (the candidate's own estimate is not added, so a
 * first request at spend 0 is admitted); otherwise wait for an in-flight request of the blocking level.
 */
export function decideDefault(states: readonly CappedState[]): Decision {
  const over = states.find((s) => s.committed >= s.level.maxBudget)
  if (over) return { kind: 'refuse', state: over }
  const blocked = states.find((s) => s.committed + s.held >= s.level.maxBudget)
  if (blocked) return { kind: 'wait', state: blocked }
  return { kind: 'admit' }
}

/** A request's worst case in strict mode: `prompt` = prompt_bound × input price. */
export type WorstCase = { readonly prompt: number; readonly outputPrice: number; readonly maxOut: number }

export type StrictDecision =
  | { readonly kind: 'reserve'; readonly amount: number; readonly cappedMaxTokens: number | null }
  | { readonly kind: 'refuse'; readonly state: CappedState }
  | { readonly kind: 'wait'; readonly state: CappedState }

const fits = (s: CappedState, amount: number) => s.committed + s.held + amount <= s.level.maxBudget

/**
 * Strict mode: reserve the worst case when `committed + reserved + worst <= max_budget` at every level. When it
 * does not fit and a non-fitting level has reservations outstanding, wait for them. With nothing outstanding
 * there, cap the output to the largest number of tokens that fits everywhere; not even one → refuse.
 */
export function decideStrict(states: readonly CappedState[], worst: WorstCase): StrictDecision {
  const over = states.find((s) => s.committed >= s.level.maxBudget)
  if (over) return { kind: 'refuse', state: over }
  const full = worst.prompt + worst.maxOut * worst.outputPrice
  const misfits = states.filter((s) => !fits(s, full))
  if (misfits.length === 0) return { kind: 'reserve', amount: full, cappedMaxTokens: null }
  const busy = misfits.find((s) => s.held > 0)
  if (busy) return { kind: 'wait', state: busy }
  const tokens = largestFittingOutput(states, worst)
  if (tokens < 1) return { kind: 'refuse', state: misfits[0] }
  return { kind: 'reserve', amount: worst.prompt + tokens * worst.outputPrice, cappedMaxTokens: tokens }
}

/** The most output tokens (≤ maxOut) whose worst case fits every level; checked with the exact comparison. */
export function largestFittingOutput(states: readonly CappedState[], worst: WorstCase): number {
  if (worst.outputPrice <= 0) return states.every((s) => fits(s, worst.prompt)) ? worst.maxOut : 0
  const room = Math.min(...states.map((s) => s.level.maxBudget - s.committed - s.held))
  let tokens = Math.min(worst.maxOut, Math.floor((room - worst.prompt) / worst.outputPrice))
  // The division may round up by one ulp; step down until the exact sum fits.
  while (tokens >= 1 && !states.every((s) => fits(s, worst.prompt + tokens * worst.outputPrice))) tokens--
  return Math.max(tokens, 0)
}
