/**
 * Who a request was made by, as metric labels (§10): the key's sha256 and alias, team, user, end user and the
 * model name the client sent. Missing values are `""`, as LiteLLM exports them; `end_user` stays `""` unless
 * `enable_end_user_cost_tracking_prometheus_only` is set (an end-user label per customer is unbounded).
 * Never a plaintext key: `hashed_api_key` is the sha256 the key is stored under.
 */
import type { Principal } from '../auth/principal'
import type { UsageRecord } from '../usage/record'

export type RequestLabels = {
  readonly end_user: string
  readonly hashed_api_key: string
  readonly api_key_alias: string
  readonly requested_model: string
  readonly team: string
  readonly team_alias: string
  readonly user: string
}

export function labelsOfRecord(record: UsageRecord, trackEndUsers: boolean): RequestLabels {
  return {
    end_user: trackEndUsers ? (record.endUser ?? '') : '',
    hashed_api_key: record.keyHash,
    api_key_alias: record.keyAlias ?? '',
    requested_model: record.requestedModel,
    team: record.teamId ?? '',
    team_alias: record.teamAlias ?? '',
    user: record.userId ?? '',
  }
}

/** A request refused before forwarding: the principal when the credential was accepted, else nothing. */
export function labelsOfPrincipal(principal: Principal | null, requestedModel: string | null): RequestLabels {
  return {
    end_user: '',
    hashed_api_key: principal?.keyHash ?? '',
    api_key_alias: principal?.key?.keyAlias ?? '',
    requested_model: requestedModel ?? '',
    team: principal?.team?.teamId ?? '',
    team_alias: principal?.team?.teamAlias ?? '',
    user: principal?.userId ?? '',
  }
}

/**
 * The same labels with keys in alphabetical order. prom-client prints a series' labels in the key order of the
 * object that created it; Python's client (LiteLLM) prints them sorted, and text-matching alerts expect that.
 */
export function sortedLabels<T extends Record<string, string>>(labels: T): T {
  const sorted: Record<string, string> = {}
  for (const name of Object.keys(labels).sort()) sorted[name] = labels[name]
  return sorted as T
}

/** `auth_error` → `AuthError`: an `exception_class` for failures Tollgate words itself. */
export function classOfErrorType(type: string): string {
  return type
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('')
}
