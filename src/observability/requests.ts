/**
 * What every data-plane request leaves behind besides spend: its metrics and its log line. A forwarded request
 * arrives here as its usage record (this observer is a usage sink beside the spend engine's); a request the
 * gateway refused before forwarding (credential, model access, budget, rate limit, bad body) produces no
 * record, so the proxy routes report it through `refused` when its error response has been sent.
 */
import type { Principal } from '../auth/principal'
import { ApiError } from '../http/errors'
import { routePath } from '../http/paths'
import type { Logger } from '../lib/logger'
import type { Metrics } from '../metrics/registry'
import type { UsageRecord } from '../usage/record'
import type { UsageSink } from '../usage/sink'
import { classOfErrorType, labelsOfPrincipal } from './labels'
import { hashPrefix, lineOfRecord, writeRequestLine } from './request-log'
import { recordFinished, recordRefused } from './request-metrics'

export type Refused = {
  readonly request: Request
  /** Null when the credential itself was refused. */
  readonly principal: Principal | null
  readonly error: unknown
  /** performance.now() when the request arrived, when known. */
  readonly receivedAt: number | null
}

export type RequestObserver = UsageSink & {
  refused(refusal: Refused): void
}

export type RequestObserverDeps = {
  metrics: Metrics
  log: Logger
  /** `litellm_settings.enable_end_user_cost_tracking_prometheus_only`. */
  trackEndUsers: boolean
  isConnectionError(error: unknown): boolean
}

/** The model a refused request named, once its body was read (the labels and the log line carry it). */
const requestedModels = new WeakMap<Request, string>()

export function noteRequestedModel(request: Request, model: string): void {
  requestedModels.set(request, model)
}

/** Status, error type and class of an error the gateway answers with, as `toErrorResponse` maps it. */
export function classifyError(error: unknown, isConnectionError: (error: unknown) => boolean): { status: number; type: string; errorClass: string } {
  const cause = error instanceof ApiError ? error : (error as { cause?: unknown } | null)?.cause
  if (cause instanceof ApiError) return { status: cause.httpStatus, type: cause.errorType, errorClass: classOfErrorType(cause.errorType) }
  if (isConnectionError(error)) return { status: 503, type: 'service_unavailable', errorClass: 'ServiceUnavailable' }
  return { status: 500, type: 'internal_server_error', errorClass: 'InternalServerError' }
}

export function createRequestObserver(deps: RequestObserverDeps): RequestObserver {
  const { metrics, log } = deps
  return {
    record(record: UsageRecord) {
      recordFinished(metrics, record, deps.trackEndUsers)
      writeRequestLine(log, lineOfRecord(record))
    },
    refused({ request, principal, error, receivedAt }) {
      const { status, type, errorClass } = classifyError(error, deps.isConnectionError)
      const requestedModel = requestedModels.get(request) ?? null
      recordRefused(metrics, { labels: labelsOfPrincipal(principal, requestedModel), status, errorClass })
      writeRequestLine(log, {
        request_id: null,
        route: routePath(request.url).replace(/^\/v1(?=\/)/, ''),
        key_alias: principal?.key?.keyAlias ?? null,
        key_hash_prefix: hashPrefix(principal?.keyHash),
        team_id: principal?.team?.teamId ?? null,
        user_id: principal?.userId ?? null,
        model_group: requestedModel,
        status: 'refused',
        http_status: status,
        latency_ms: receivedAt === null ? 0 : Math.round((performance.now() - receivedAt) * 10) / 10,
        cost: 0,
        error_type: type,
      })
    },
  }
}
