/**
 * The request metrics of §10, recorded from what the proxy knows when a request ends: its usage record for a
 * forwarded request (success, upstream failure, timeout, client disconnect), or the refusal for one that
 * never left the gateway (credential, model access, budget, rate limit, bad body). Counting here, in memory,
 * is all a request pays; a scrape only serializes.
 */
import type { Metrics } from '../metrics/registry'
import type { UsageRecord } from '../usage/record'
import { labelsOfRecord, sortedLabels, type RequestLabels } from './labels'

/** A request the gateway answered itself with an error before anything was sent upstream. */
export type RefusedRequest = {
  readonly labels: RequestLabels
  /** The HTTP status the client received. */
  readonly status: number
  readonly errorClass: string
}

const seconds = (ms: number) => Math.max(0, ms) / 1000

export function recordRefused(metrics: Metrics, refusal: RefusedRequest): void {
  const status = String(refusal.status)
  metrics.totalRequests.inc(sortedLabels({ ...refusal.labels, status_code: status }))
  metrics.failedRequests.inc(sortedLabels({ ...refusal.labels, exception_status: status, exception_class: refusal.errorClass }))
}

export function recordFinished(metrics: Metrics, record: UsageRecord, trackEndUsers: boolean): void {
  const who = labelsOfRecord(record, trackEndUsers)
  const failed = record.status === 'failure'
  const exception = { exception_status: String(record.error?.status ?? record.httpStatus), exception_class: record.error?.errorClass ?? 'UnknownError' }
  // A stream that failed after its first byte was answered 200, but failed: it is counted with the failure's status.
  metrics.totalRequests.inc(sortedLabels({ ...who, status_code: String(failed ? (record.error?.status ?? record.httpStatus) : record.httpStatus) }))
  if (failed) metrics.failedRequests.inc(sortedLabels({ ...who, ...exception }))

  const { requested_model, ...owner } = who
  const model = record.model
  if (!failed) {
    // A client that disconnected still pays for what was generated (§6.6), so its tokens and spend count.
    metrics.spend.inc(sortedLabels({ ...owner, model }), record.cost)
    const tokens = sortedLabels({ ...owner, model, requested_model })
    metrics.totalTokens.inc(tokens, record.totalTokens)
    metrics.inputTokens.inc(tokens, record.promptTokens)
    metrics.outputTokens.inc(tokens, record.completionTokens)
    if (!record.priced) metrics.unpricedRequests.inc({ model })
  }

  if (record.status === 'success') observeLatencies(metrics, record, who)

  const deployment = sortedLabels({
    requested_model: record.modelGroup,
    litellm_model_name: model,
    model_id: record.deploymentId,
    api_base: record.apiBase ?? '',
    api_provider: record.provider,
    hashed_api_key: who.hashed_api_key,
    api_key_alias: who.api_key_alias,
    team: who.team,
    team_alias: who.team_alias,
  })
  metrics.deploymentRequests.inc(deployment)
  if (failed) metrics.deploymentFailures.inc(sortedLabels({ ...deployment, ...exception }))
  // A client that left before the upstream answered says nothing about the deployment either way.
  else if (record.error === null) metrics.deploymentSuccesses.inc(deployment)
}

function observeLatencies(metrics: Metrics, record: UsageRecord, who: RequestLabels): void {
  const model = record.model
  const totalMs = record.endTime.getTime() - record.startTime.getTime()
  metrics.requestLatency.observe(sortedLabels({ ...who, model }), seconds(totalMs))
  const upstream = sortedLabels({ ...who, model })
  if (record.upstreamDurationMs !== null) {
    metrics.upstreamLatency.observe(upstream, seconds(record.upstreamDurationMs))
    const overhead = sortedLabels({
      model,
      hashed_api_key: who.hashed_api_key,
      api_key_alias: who.api_key_alias,
      team: who.team,
      team_alias: who.team_alias,
    })
    metrics.overheadLatency.observe(overhead, seconds(totalMs - record.upstreamDurationMs))
  }
  // Measured from the request's arrival, as the client experiences it.
  if (record.stream && record.completionStartTime) {
    metrics.timeToFirstToken.observe(upstream, seconds(record.completionStartTime.getTime() - record.startTime.getTime()))
  }
}
