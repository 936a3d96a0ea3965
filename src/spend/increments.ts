/**
 * What one settled request adds, derived from its spend log row alone (so a replay derives the same thing):
 * the spend of every entity it touches and its daily rollup rows. Pure functions, no I/O.
 */
import type { DailySpendIncrement, MembershipId, OrderedAmounts, SpendLogRow } from '../db/ports'
import { utcDay } from '../lib/time'

/** The pseudo-user that carries the global proxy budget (`litellm_settings.max_budget`), as LiteLLM names it. */
export const PROXY_BUDGET_USER = 'litellm-proxy-budget'

export type EntityKind = 'key' | 'key_model' | 'team' | 'membership' | 'user' | 'organization' | 'end_user' | 'tag'

/** The id `pendingSpend('membership', …)` takes for a team member. */
export function membershipKey(teamId: string, userId: string): string {
  return JSON.stringify([teamId, userId])
}

/** The id `pendingSpend('key_model', …)` takes for a key's spend on one model group (`model_spend[model]`). */
export function keyModelKey(token: string, modelGroup: string): string {
  return JSON.stringify([token, modelGroup])
}

export type Charge = { readonly kind: EntityKind; readonly id: string; readonly amount: number }

export type ChargeOptions = { readonly proxyBudget: boolean }

/** Every (entity, amount) a row adds to, in the fixed entity order. */
export function chargesOf(row: SpendLogRow, options: ChargeOptions): Charge[] {
  const amount = row.spend
  const charges: Charge[] = []
  if (row.apiKey) charges.push({ kind: 'key', id: row.apiKey, amount })
  if (row.teamId) charges.push({ kind: 'team', id: row.teamId, amount })
  if (row.teamId && row.userId) charges.push({ kind: 'membership', id: membershipKey(row.teamId, row.userId), amount })
  if (row.userId) charges.push({ kind: 'user', id: row.userId, amount })
  if (options.proxyBudget && row.userId !== PROXY_BUDGET_USER) charges.push({ kind: 'user', id: PROXY_BUDGET_USER, amount })
  if (row.organizationId) charges.push({ kind: 'organization', id: row.organizationId, amount })
  if (row.endUser) charges.push({ kind: 'end_user', id: row.endUser, amount })
  for (const tag of new Set(row.requestTags)) charges.push({ kind: 'tag', id: tag, amount })
  return charges
}

/** What a row adds to this instance's unflushed spend: its entity charges and the key's per-model spend. */
export function pendingChargesOf(row: SpendLogRow, options: ChargeOptions): Charge[] {
  const charges = chargesOf(row, options)
  if (row.apiKey && row.modelGroup) charges.push({ kind: 'key_model', id: keyModelKey(row.apiKey, row.modelGroup), amount: row.spend })
  return charges
}

/** A batch's increments per table, each id's amounts in settlement order; what the settling transaction applies. */
export type BatchIncrements = {
  keys: OrderedAmounts[]
  keyModels: { token: string; model: string; amounts: number[] }[]
  teams: OrderedAmounts[]
  memberships: OrderedAmounts<MembershipId>[]
  users: OrderedAmounts[]
  organizations: OrderedAmounts[]
  endUsers: OrderedAmounts[]
  /** End users seen in the batch (their rows are created even when the request cost nothing). */
  endUsersSeen: string[]
  tags: OrderedAmounts[]
}

export function batchIncrements(rows: readonly SpendLogRow[], options: ChargeOptions): BatchIncrements {
  const amounts = new Map<EntityKind, Map<string, number[]>>()
  const keyModels = new Map<string, { token: string; model: string; amounts: number[] }>()
  const endUsersSeen = new Set<string>()
  for (const row of rows) {
    if (row.endUser) endUsersSeen.add(row.endUser)
    // Adding 0 changes nothing (x + 0 === x for every spend a row can hold), so zero-cost rows add no terms.
    if (row.spend === 0) continue
    for (const charge of chargesOf(row, options)) {
      const byId = amounts.get(charge.kind) ?? new Map<string, number[]>()
      amounts.set(charge.kind, byId)
      const list = byId.get(charge.id) ?? []
      byId.set(charge.id, list)
      list.push(charge.amount)
    }
    if (row.apiKey && row.modelGroup) {
      const id = JSON.stringify([row.apiKey, row.modelGroup])
      const entry = keyModels.get(id) ?? { token: row.apiKey, model: row.modelGroup, amounts: [] }
      keyModels.set(id, entry)
      entry.amounts.push(row.spend)
    }
  }
  const of = (kind: EntityKind): OrderedAmounts[] => [...(amounts.get(kind) ?? new Map<string, number[]>())].map(([id, list]) => ({ id, amounts: list }))
  return {
    keys: of('key'),
    keyModels: [...keyModels.values()],
    teams: of('team'),
    memberships: of('membership').map(({ id, amounts: list }) => {
      const [teamId, userId] = JSON.parse(id) as [string, string]
      return { id: { teamId, userId }, amounts: list }
    }),
    users: of('user'),
    organizations: of('organization'),
    endUsers: of('end_user'),
    endUsersSeen: [...endUsersSeen],
    tags: of('tag'),
  }
}

/**
 * The daily rollup rows of one request. Key, user, team and end-user rollups are written for every row
 * (entity id `''` when the request had none: the "Unassigned" buckets of the reports, and the key rollup is
 * then the complete set of requests); organization and tag rollups only where present.
 */
export function rollupsOf(row: SpendLogRow): DailySpendIncrement[] {
  const base = {
    date: utcDay(row.startTime),
    apiKey: row.apiKey,
    modelGroup: row.modelGroup,
    model: row.model,
    provider: row.provider,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    spend: row.spend,
    apiRequests: 1,
    // A client that disconnected still received (and pays for) what was generated: not a failure.
    successfulRequests: row.status === 'failure' ? 0 : 1,
    failedRequests: row.status === 'failure' ? 1 : 0,
  }
  const entities: Array<[string, string]> = [
    ['key', row.apiKey],
    ['user', row.userId ?? ''],
    ['team', row.teamId ?? ''],
    ['end_user', row.endUser ?? ''],
  ]
  if (row.organizationId) entities.push(['organization', row.organizationId])
  for (const tag of new Set(row.requestTags)) entities.push(['tag', tag])
  return entities.map(([entityType, entityId]) => ({ entityType, entityId, ...base }))
}

const ROLLUP_IDENTITY = ['entityType', 'entityId', 'date', 'apiKey', 'modelGroup', 'model', 'provider'] as const

/** Rollup rows of a batch, sorted by identity (stable), so concurrent upserts touch rows in one order. */
export function batchRollups(rows: readonly SpendLogRow[]): DailySpendIncrement[] {
  const all = rows.flatMap(rollupsOf)
  const identity = (row: DailySpendIncrement) => ROLLUP_IDENTITY.map((column) => row[column])
  return all.sort((a, b) => {
    const x = identity(a)
    const y = identity(b)
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
    return 0
  })
}
