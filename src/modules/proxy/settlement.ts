/**
 * Step 10 of §6.3 for one request: build its usage record, hand it to the sink, release its admission — once,
 * whichever path ends the request (response sent, upstream error, timeout, stream error, client disconnect).
 */
import type { Admitted } from '../../admission/pipeline'
import type { Deployment } from '../../deployments/deployment'
import type { Logger } from '../../lib/logger'
import type { TokenUsage } from '../../providers/types'
import type { Pricing } from '../../spend/prices'
import type { UsageError, UsageRecord, UsageStatus } from '../../usage/record'
import type { UsageSink } from '../../usage/sink'

/** What is known about the request before it is forwarded. */
export type RecordBase = Pick<
  UsageRecord,
  | 'requestId'
  | 'callType'
  | 'stream'
  | 'keyHash'
  | 'keyAlias'
  | 'userId'
  | 'teamId'
  | 'teamAlias'
  | 'organizationId'
  | 'endUser'
  | 'tags'
  | 'requestedModel'
  | 'startTime'
  | 'requesterIp'
  | 'spendLogsMetadata'
>

/** How the request ended. */
export type Outcome = {
  readonly status: UsageStatus
  readonly httpStatus: number
  readonly error: UsageError | null
  readonly deployment: Deployment
  readonly modelGroup: string
  readonly upstreamModel: string
  readonly usage: TokenUsage
  readonly usageEstimated: boolean
  readonly responseId: string | null
  readonly completionStartTime: Date | null
  readonly upstreamDurationMs: number | null
  readonly attemptedRetries: number
  readonly attemptedFallbacks: number
}

export type SettlementDeps = { usage: UsageSink; pricing: Pricing; log: Logger; now(): number }

export class Settlement {
  private settled: Promise<UsageRecord | null> | null = null

  constructor(
    private readonly deps: SettlementDeps,
    private readonly base: RecordBase,
    private readonly admitted: Admitted,
  ) {}

  get isSettled(): boolean {
    return this.settled !== null
  }

  /** Records and releases once; a later call returns the first call's record (null after `abandon`). */
  settle(outcome: Outcome): Promise<UsageRecord | null> {
    this.settled ??= this.run(outcome)
    return this.settled
  }

  /** Releases without a record: the request ended before anything was forwarded. */
  abandon(): Promise<UsageRecord | null> {
    this.settled ??= this.admitted.release(null).then(() => null)
    return this.settled
  }

  private async run(outcome: Outcome): Promise<UsageRecord> {
    const { deployment, usage } = outcome
    // Failures cost nothing; a disconnected stream pays for what was generated (§6.6).
    const { cost, priced } =
      outcome.status === 'failure'
        ? { cost: 0, priced: this.deps.pricing.priceOf(deployment, outcome.upstreamModel).priced }
        : this.deps.pricing.costOf(deployment, usage, outcome.upstreamModel)
    const record: UsageRecord = {
      ...this.base,
      responseId: outcome.responseId,
      modelGroup: outcome.modelGroup,
      model: outcome.upstreamModel,
      deploymentId: deployment.id,
      provider: deployment.provider,
      apiBase: deployment.apiBase,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
      cachedPromptTokens: usage.cachedPromptTokens,
      usageEstimated: outcome.usageEstimated,
      cost,
      priced,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      error: outcome.error,
      endTime: new Date(this.deps.now()),
      completionStartTime: outcome.completionStartTime,
      upstreamDurationMs: outcome.upstreamDurationMs,
      attemptedRetries: outcome.attemptedRetries,
      attemptedFallbacks: outcome.attemptedFallbacks,
    }
    try {
      await this.deps.usage.record(record)
    } catch (error) {
      this.deps.log.error('usage sink refused a record', { request_id: record.requestId, error: String(error) })
    }
    await this.admitted.release(record)
    return record
  }
}
