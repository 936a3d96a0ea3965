/**
 * One OpenAI-compatible call, in the order of §6.3: body (size, JSON, shape, forbidden parameters), end user,
 * tags, model resolution and access, admission, forwarding through the router, then the answer — JSON or a
 * relayed stream — and its settlement (usage record + release), exactly once on every path.
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import type { ModelTarget } from '../../deployments/catalog'
import type { Deployment } from '../../deployments/deployment'
import { resolveModel, tryResolveModel } from '../../governance/model-access'
import { parseJsonText, readBodyText } from '../../http/body'
import { routePath } from '../../http/paths'
import { newOrderedId } from '../../lib/ids'
import { noteRequestedModel } from '../../observability/requests'
import type { Operation, TokenUsage } from '../../providers/types'
import { estimateChatPromptTokens, estimateInputTokens, estimateTextTokens } from '../../usage/estimate'
import { createAttempt, gatewayFailure, type UpstreamAnswer, type UpstreamFailure } from './forward'
import { proxyResponseHeaders } from './headers'
import { CALL_TYPES, checkProxyBody, clientWantsStreamUsage, type ProxyBody } from './model'
import { checkEndUser, endUserOf, loadAccessSubject, organizationIdOf, requestTags, spendLogsMetadataOf } from './request-scope'
import { Settlement, type Outcome, type RecordBase } from './settlement'
import { relayStream, type StreamResult } from './stream-relay'

export type ProxyDeps = Pick<AppContext, 'settings' | 'caches' | 'clock' | 'log' | 'dataPlane' | 'server'>

function promptEstimate(operation: Operation, body: ProxyBody): number {
  if (operation === 'chat') return estimateChatPromptTokens(body.messages)
  return estimateInputTokens(operation === 'completion' ? body.prompt : body.input)
}

const usageOf = (promptTokens: number, completionTokens: number): TokenUsage => ({
  promptTokens,
  completionTokens,
  totalTokens: promptTokens + completionTokens,
  cachedPromptTokens: 0,
})

const NO_USAGE = usageOf(0, 0)

/** Everything one call carries from admission to its answer. */
type Call = {
  readonly deps: ProxyDeps
  readonly operation: Operation
  readonly request: Request
  readonly principal: Principal
  readonly body: ProxyBody
  readonly stream: boolean
  readonly requestId: string
  readonly startedAt: number
  readonly settlement: Settlement
  readonly admissionHeaders: Readonly<Record<string, string>>
}

type Routing = { readonly target: ModelTarget; readonly attemptedRetries: number; readonly attemptedFallbacks: number }

export async function proxyCall(deps: ProxyDeps, operation: Operation, request: Request, principal: Principal): Promise<Response> {
  const startedAt = performance.now()
  const startTime = new Date(deps.clock.now())
  const path = routePath(request.url)
  const general = deps.settings.config.general_settings
  const { catalog, admission, router } = deps.dataPlane

  const limitMb = general.max_request_size_mb
  const body = parseJsonText(await readBodyText(request, Math.floor(limitMb * 1024 * 1024), limitMb), 'invalid_request_error')
  checkProxyBody(operation, body)
  noteRequestedModel(request, body.model)
  const endUser = endUserOf(body, request.headers, general)
  await checkEndUser(deps, endUser)
  const tags = requestTags(principal, body, request.headers)
  const subject = await loadAccessSubject(deps, principal)
  const target = resolveModel(subject, catalog, body.model, path)

  const requestId = newOrderedId()
  const stream = operation !== 'embedding' && body.stream === true
  const organizationId = organizationIdOf(principal)
  // Slow models and long streams must outlive the server's idle timeout.
  deps.server.disableIdleTimeout(request)
  const base: RecordBase = {
    requestId,
    callType: CALL_TYPES[operation],
    stream,
    keyHash: principal.keyHash ?? '',
    keyAlias: principal.key?.keyAlias ?? null,
    userId: principal.userId,
    teamId: principal.team?.teamId ?? null,
    teamAlias: principal.team?.teamAlias ?? null,
    organizationId,
    endUser,
    tags,
    requestedModel: body.model,
    startTime,
    requesterIp: deps.server.clientIp(request),
    spendLogsMetadata: spendLogsMetadataOf(principal, body),
  }
  // Nothing may throw between admission and the try below: from here on, what admission holds is released.
  const admitted = await admission.admit({
    requestId,
    principal,
    callType: CALL_TYPES[operation],
    route: path,
    requestedModel: body.model,
    target,
    organizationId,
    endUser,
    tags,
    body,
    stream,
    // Lazily: Bun creates a server request's signal (and tracks it) only when it is read.
    get signal() {
      return request.signal
    },
  })
  // The router learns when the request is over (on every path: it releases what admission holds).
  let finishRoute: ((totalTokens: number) => void) | null = null
  const settlement = new Settlement(
    { usage: deps.dataPlane.usage, pricing: deps.dataPlane.pricing, log: deps.log, now: () => deps.clock.now() },
    base,
    {
      ...admitted,
      release: (record) => {
        finishRoute?.(record?.totalTokens ?? 0)
        return admitted.release(record)
      },
    },
  )
  const call: Call = { deps, operation, request, principal, body, stream, requestId, startedAt, settlement, admissionHeaders: admitted.headers }

  try {
    const routed = await router.route(
      {
        requestId,
        requestedModel: body.model,
        target,
        stream,
        tags,
        fallbacks: Array.isArray(body.fallbacks) ? (body.fallbacks as string[]) : [],
        resolve: (name) => tryResolveModel(subject, catalog, name),
        get signal() {
          return request.signal
        },
      },
      createAttempt({
        providers: deps.dataPlane.providers,
        operation,
        body,
        stream,
        bodyOverrides: admitted.bodyOverrides,
        clientSignal: stream ? request.signal : null,
      }),
    )
    finishRoute = routed.finish
    const routing: Routing = { target: routed.target, attemptedRetries: routed.attemptedRetries, attemptedFallbacks: routed.attemptedFallbacks }
    if (!routed.ok) return await failureResponse(call, routing, routed.deployment, routed.failure)
    return stream ? streamResponse(call, routing, routed.value) : await jsonResponse(call, routing, routed.value)
  } catch (error) {
    // No deployment available (the router's 429/400), or a bug: release what admission holds, then let the
    // error handler answer.
    if (!settlement.isSettled) await settlement.abandon()
    throw error
  }
}

function outcomeBase(call: Call, routing: Routing, answer: { call: UpstreamAnswer['call'] }) {
  return {
    deployment: answer.call.deployment,
    modelGroup: routing.target.modelGroup,
    upstreamModel: answer.call.upstreamModel,
    attemptedRetries: routing.attemptedRetries,
    attemptedFallbacks: routing.attemptedFallbacks,
  }
}

async function failureResponse(call: Call, routing: Routing, deployment: Deployment, failure: UpstreamFailure): Promise<Response> {
  const cancelled = failure.kind === 'cancelled'
  await call.settlement.settle({
    status: cancelled ? 'client_disconnected' : 'failure',
    httpStatus: failure.clientStatus,
    error: failure.error,
    deployment,
    modelGroup: routing.target.modelGroup,
    upstreamModel: failure.upstreamModel,
    // The prompt of a cancelled stream was sent; nothing is known to have been generated.
    usage: cancelled ? usageOf(promptEstimate(call.operation, call.body), 0) : NO_USAGE,
    usageEstimated: cancelled,
    responseId: null,
    completionStartTime: null,
    upstreamDurationMs: failure.durationMs,
    attemptedRetries: routing.attemptedRetries,
    attemptedFallbacks: routing.attemptedFallbacks,
  })
  return Response.json(failure.body, {
    status: failure.clientStatus,
    headers: {
      ...failure.headers,
      'x-litellm-call-id': call.requestId,
      'x-litellm-model-group': routing.target.modelGroup,
      'x-litellm-model-id': deployment.id,
      'x-litellm-attempted-retries': String(routing.attemptedRetries),
      'x-litellm-attempted-fallbacks': String(routing.attemptedFallbacks),
    },
  })
}

async function jsonResponse(call: Call, routing: Routing, answer: UpstreamAnswer): Promise<Response> {
  const upstreamMs = answer.answeredAt - answer.sentAt
  let parsed
  try {
    parsed = answer.provider.parseResponse(answer.call, answer.text ?? '')
  } catch {
    const message = `The upstream answered with a body that is not a valid response (model=${routing.target.modelGroup})`
    const failure = gatewayFailure({ kind: 'http', status: answer.response.status, retryAfterSeconds: null }, 502, 'upstream_error', message, 'InvalidUpstreamResponse')
    return failureResponse(call, routing, answer.call.deployment, { ...failure, upstreamModel: answer.call.upstreamModel, durationMs: upstreamMs })
  }
  const usage = parsed.usage ?? usageOf(promptEstimate(call.operation, call.body), estimateTextTokens(parsed.outputText()))
  const record = await call.settlement.settle({
    ...outcomeBase(call, routing, answer),
    status: 'success',
    httpStatus: answer.response.status,
    error: null,
    usage,
    usageEstimated: parsed.usage === null,
    responseId: parsed.responseId,
    completionStartTime: null,
    upstreamDurationMs: upstreamMs,
  })
  const durationMs = performance.now() - call.startedAt
  const headers = proxyResponseHeaders({
    requestId: call.requestId,
    modelGroup: routing.target.modelGroup,
    deploymentId: answer.call.deployment.id,
    principal: call.principal,
    attemptedRetries: routing.attemptedRetries,
    attemptedFallbacks: routing.attemptedFallbacks,
    cost: record?.cost ?? 0,
    durationMs,
    overheadMs: durationMs - upstreamMs,
    admissionHeaders: call.admissionHeaders,
    upstreamHeaders: answer.response.headers,
  })
  headers['content-type'] = 'application/json'
  return new Response(parsed.bodyText, { status: answer.response.status, headers })
}

function streamOutcome(call: Call, routing: Routing, answer: UpstreamAnswer, result: StreamResult): Outcome {
  const { usage, status } = result
  let final: TokenUsage
  let estimated: boolean
  if (usage) {
    final = usage
    estimated = false
  } else {
    // No usage chunk (upstream without stream usage, or the client left first): count what was generated.
    const completion = Math.max(estimateTextTokens(result.text), status === 'client_disconnected' ? result.contentChunks : 0)
    final = usageOf(promptEstimate(call.operation, call.body), completion)
    estimated = true
  }
  return {
    ...outcomeBase(call, routing, answer),
    status,
    httpStatus: answer.response.status,
    error: result.error,
    usage: final,
    usageEstimated: estimated || status === 'client_disconnected',
    responseId: result.responseId,
    completionStartTime: result.firstChunkAt === null ? null : new Date(result.firstChunkAt),
    upstreamDurationMs: performance.now() - answer.sentAt,
  }
}

function streamResponse(call: Call, routing: Routing, answer: UpstreamAnswer): Response {
  const { deps } = call
  const deployment = answer.call.deployment
  const relay = relayStream({
    body: answer.response.body ?? new ReadableStream({ start: (c) => c.close() }),
    decoder: answer.provider.streamDecoder(answer.call),
    clientWantsUsage: clientWantsStreamUsage(call.body),
    keepaliveMs: deps.dataPlane.streamKeepaliveMs,
    now: () => deps.clock.now(),
    costOf: (usage) => deps.dataPlane.pricing.costOf(deployment, usage, answer.call.upstreamModel).cost,
    abortUpstream: () => answer.abort.abort(),
    finish: (result) => call.settlement.settle(streamOutcome(call, routing, answer, result)),
  })
  // Bun cancels the body when the client disconnects; the signal also covers a body that was never read.
  if (call.request.signal.aborted) void relay.cancel()
  else call.request.signal.addEventListener('abort', () => void relay.cancel(), { once: true })
  const durationMs = performance.now() - call.startedAt
  const headers = proxyResponseHeaders({
    requestId: call.requestId,
    modelGroup: routing.target.modelGroup,
    deploymentId: deployment.id,
    principal: call.principal,
    attemptedRetries: routing.attemptedRetries,
    attemptedFallbacks: routing.attemptedFallbacks,
    cost: null,
    durationMs,
    overheadMs: durationMs - (answer.answeredAt - answer.sentAt),
    admissionHeaders: call.admissionHeaders,
    upstreamHeaders: answer.response.headers,
  })
  headers['content-type'] = 'text/event-stream; charset=utf-8'
  headers['cache-control'] = 'no-cache'
  headers['x-accel-buffering'] = 'no'
  return new Response(relay.stream, { status: 200, headers })
}
