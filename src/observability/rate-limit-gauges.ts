/**
 * `litellm_remaining_api_key_requests_for_model` / `…_tokens_for_model`: what a key has left of its per-model
 * limits (`model_rpm_limit` / `model_tpm_limit`, the `model_per_key` level of §6.5) in the current 60-second
 * window, as the rate limiter saw it when it admitted the key's latest request to that model group. Taken from
 * the level's success headers (`x-ratelimit-model_per_key-remaining-*`), which count that request already.
 * Keys without a per-model limit get no series: no limit means no limiter (LiteLLM printed `sys.maxsize`).
 */
import type { RateLimitObserver } from '../governance/rate-limits/admission-step'
import type { Metrics } from '../metrics/registry'
import { sortedLabels } from './labels'

export function rateLimitGauges(metrics: Metrics): RateLimitObserver {
  return (request, levels, headers) => {
    const level = levels.find((candidate) => candidate.level === 'model_per_key')
    const keyHash = request.principal.keyHash
    if (!level || !keyHash) return
    const labels = sortedLabels({
      hashed_api_key: keyHash,
      api_key_alias: request.principal.key?.keyAlias ?? '',
      model: request.target.modelGroup,
    })
    const requests = Number(headers['x-ratelimit-model_per_key-remaining-requests'])
    const tokens = Number(headers['x-ratelimit-model_per_key-remaining-tokens'])
    if (level.rpm !== null && Number.isFinite(requests)) metrics.remainingKeyRequestsForModel.set(labels, requests)
    if (level.tpm !== null && Number.isFinite(tokens)) metrics.remainingKeyTokensForModel.set(labels, tokens)
  }
}
