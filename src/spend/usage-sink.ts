/**
 * The proxy's usage records, as spend log rows, into the spend engine: the proxy's one `UsageSink` in
 * production. `record` is synchronous (the row is in the spool before the proxy releases the request's
 * admission), and everything else — batching, the database, retries — happens behind the engine.
 */
import type { SpendLogRow } from '../db/ports'
import type { UsageRecord } from '../usage/record'
import type { UsageSink } from '../usage/sink'
import type { SpendEngine } from './engine'

/** The spend log row of a finished request (§5.8 raw row: the LiteLLM metadata keys live in `metadata`). */
export function spendLogRowOf(record: UsageRecord): SpendLogRow {
  const metadata: Record<string, unknown> = {
    user_api_key_alias: record.keyAlias,
    user_api_key_team_alias: record.teamAlias,
    spend_logs_metadata: record.spendLogsMetadata,
    requested_model: record.requestedModel,
    api_base: record.apiBase,
    attempted_retries: record.attemptedRetries,
    attempted_fallbacks: record.attemptedFallbacks,
    error_information: record.error
      ? { error_class: record.error.errorClass, error_code: record.error.status, error_message: record.error.message, error_type: record.error.type }
      : null,
  }
  // §6.4: an unpriced model is served to unbudgeted principals at 0, flagged so reports can tell.
  if (!record.priced && record.status !== 'failure') metadata.cost_unknown = true
  return {
    requestId: record.requestId,
    responseId: record.responseId,
    callType: record.callType,
    apiKey: record.keyHash,
    spend: record.cost,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    totalTokens: record.totalTokens,
    startTime: record.startTime,
    endTime: record.endTime,
    completionStartTime: record.completionStartTime,
    model: record.model,
    modelGroup: record.modelGroup,
    modelId: record.deploymentId,
    provider: record.provider,
    userId: record.userId,
    teamId: record.teamId,
    organizationId: record.organizationId,
    endUser: record.endUser,
    requestTags: [...record.tags],
    status: record.status,
    usageEstimated: record.usageEstimated,
    metadata,
    requesterIpAddress: record.requesterIp,
  }
}

export function spendUsageSink(spend: Pick<SpendEngine, 'record'>): UsageSink {
  return { record: (record) => spend.record(spendLogRowOf(record)) }
}
