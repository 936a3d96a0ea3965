/**
 * One structured line per data-plane request, through the app logger. Built only from the usage record or the
 * refusal — never from headers or bodies — so a plaintext key, a JWT or an upstream key cannot reach it
 * (pitfall 22): the key appears as its alias and the first characters of its sha256, the error as its type.
 */
import type { Logger } from '../lib/logger'
import type { UsageRecord } from '../usage/record'

/** Enough of the sha256 to find the key (`/key/info` takes the full hash), too little to be one. */
export const KEY_HASH_PREFIX_LENGTH = 12

export type RequestLogLine = {
  readonly request_id: string | null
  readonly route: string
  readonly key_alias: string | null
  readonly key_hash_prefix: string | null
  readonly team_id: string | null
  readonly user_id: string | null
  readonly model_group: string | null
  /** `success`, `failure`, `client_disconnected`, or `refused` (answered by the gateway before forwarding). */
  readonly status: string
  readonly http_status: number
  readonly latency_ms: number
  readonly cost: number
  readonly error_type: string | null
}

const ROUTES: Record<UsageRecord['callType'], string> = {
  acompletion: '/chat/completions',
  atext_completion: '/completions',
  aembedding: '/embeddings',
}

export const hashPrefix = (keyHash: string | null | undefined) => (keyHash ? keyHash.slice(0, KEY_HASH_PREFIX_LENGTH) : null)

const roundMs = (ms: number) => Math.round(Math.max(0, ms) * 10) / 10

export function lineOfRecord(record: UsageRecord): RequestLogLine {
  return {
    request_id: record.requestId,
    route: ROUTES[record.callType],
    key_alias: record.keyAlias,
    key_hash_prefix: hashPrefix(record.keyHash),
    team_id: record.teamId,
    user_id: record.userId,
    model_group: record.modelGroup,
    status: record.status,
    http_status: record.status === 'failure' ? (record.error?.status ?? record.httpStatus) : record.httpStatus,
    latency_ms: roundMs(record.endTime.getTime() - record.startTime.getTime()),
    cost: record.cost,
    error_type: record.error?.type ?? null,
  }
}

export function writeRequestLine(log: Logger, line: RequestLogLine): void {
  log.info('request', line)
}
