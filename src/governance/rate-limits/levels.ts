/**
 * The levels a request is limited at, in the order they are checked (§6.5). A level appears only when it has
 * at least one limit: no limit means no limiter, no counter and no header.
 */
export const LIMIT_LEVELS = ['api_key', 'model_per_key', 'team', 'team_member', 'user', 'end_user', 'organization'] as const
export type LimitLevel = (typeof LIMIT_LEVELS)[number]

export type LevelLimit = {
  /** `deployment`: a deployment's own `rpm`/`tpm` (§6.8), counted by the router in the same windows. */
  readonly level: LimitLevel | 'deployment'
  /** key hash, `{key hash}:{model}`, team_id, `{team_id}:{user_id}`, user_id, end-user id, organization_id. */
  readonly id: string
  /** Requests per sliding 60 s; null = not limited. */
  readonly rpm: number | null
  /** Tokens per sliding 60 s (post-paid); null = not limited. */
  readonly tpm: number | null
  /** Requests in flight at once (key and team); null = not limited. */
  readonly maxParallel: number | null
}

export function isLimited(level: LevelLimit): boolean {
  return level.rpm !== null || level.tpm !== null || level.maxParallel !== null
}

/** The request's prompt and completion tokens, as the upstream reported (or Tollgate estimated) them. */
export type TokenUsage = { readonly promptTokens: number; readonly completionTokens: number }

export type TokenRateLimitType = 'input' | 'output' | 'total'

/** What TPM counts for a settled request (`general_settings.token_rate_limit_type`). */
export function countedTokens(usage: TokenUsage, type: TokenRateLimitType): number {
  const prompt = Math.max(0, Math.round(usage.promptTokens))
  const completion = Math.max(0, Math.round(usage.completionTokens))
  if (type === 'input') return prompt
  if (type === 'output') return completion
  return prompt + completion
}
