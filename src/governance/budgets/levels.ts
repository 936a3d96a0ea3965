/**
 * Which budgets apply to a request (§6.4's table), as data: `budgetLevels` turns the request's snapshots into
 * the ordered list of levels that have a cap or a soft budget, each naming where its spend is counted, which
 * row's `budget_reset_at` ends its window, and the prefix its refusal message carries. Pure; no I/O.
 */
import type { BudgetRow, EndUserRow, KeyRow, OrganizationRow, TagRow, TeamMembershipRow, TeamRow, UserRow } from '../../db/ports'
import { keyModelKey, membershipKey, PROXY_BUDGET_USER, type EntityKind } from '../../spend/increments'

/** The levels in the order they are checked; `x-tollgate-budget-scope` names one of them. */
export const BUDGET_LEVELS = ['key', 'key_model', 'team', 'team_member', 'user', 'organization', 'end_user', 'tag', 'proxy'] as const
export type BudgetLevel = (typeof BUDGET_LEVELS)[number]

/** The row whose `budget_reset_at` ends a window (and is compare-and-set when it turns over). */
export type WindowOwner = { readonly table: 'keys' | 'teams' | 'users' | 'budgets'; readonly id: string }

export type BudgetWindow = { readonly owner: WindowOwner; readonly endsAt: Date; readonly duration: string }

/** Where a level's spend is stored and how this instance's unflushed spend names it (`spend.pendingSpend`). */
export type SpendSource = { readonly kind: EntityKind; readonly id: string }

export type LevelBudget = {
  readonly level: BudgetLevel
  /** What messages name: key hash, `{hash}:{model}`, team id, `{team}:{user}`, user, organization, end user, tag. */
  readonly id: string
  /** null: no cap at this level (tracked for its soft budget only). */
  readonly maxBudget: number | null
  readonly softBudget: number | null
  readonly source: SpendSource
  /** null: spend accumulates for the object's lifetime. */
  readonly window: BudgetWindow | null
  /** The version of the row holding the spend (0 when there is none yet). */
  readonly version: number
  /** Inserted after `exceeded! ` in the refusal, where LiteLLM's message carries one. */
  readonly prefix: string
}

/** The counter a level's committed spend lives in. */
export const scopeOf = (source: SpendSource): string => `${source.kind}:${source.id}`
/** Counters are keyed by window: a reset switches every instance to a fresh one. */
export const windowIdOf = (window: BudgetWindow | null): string => (window ? String(window.endsAt.getTime()) : 'lifetime')

export type BudgetSnapshots = {
  readonly keyHash: string | null
  readonly key: KeyRow | null
  /** The key's budget tier (`keys.budget_id`). */
  readonly keyTier: BudgetRow | null
  /** The model group the request is served as, and the name the client sent. */
  readonly modelGroup: string
  readonly requestedModel: string
  readonly team: TeamRow | null
  readonly userId: string | null
  readonly membership: TeamMembershipRow | null
  /** The member's own budget row, and the team's default member row. */
  readonly memberBudget: BudgetRow | null
  readonly teamMemberDefaults: BudgetRow | null
  readonly user: UserRow | null
  readonly organizationId: string | null
  readonly organization: OrganizationRow | null
  readonly organizationBudget: BudgetRow | null
  readonly endUserId: string | null
  readonly endUser: EndUserRow | null
  /** The end user's own budget row, else the `max_end_user_budget_id` row. */
  readonly endUserBudget: BudgetRow | null
  readonly tags: ReadonlyArray<{ readonly tag: TagRow; readonly budget: BudgetRow }>
  /** The `litellm-proxy-budget` pseudo-user (its window and spend), once it exists. */
  readonly proxyUser: UserRow | null
}

export type BudgetPolicy = {
  readonly skipUserBudgetOnTeamKey: boolean
  /** `litellm_settings.max_end_user_budget`: the cap of end users without a budget row. */
  readonly maxEndUserBudget: number | null
  /** `litellm_settings.max_budget` when > 0 (0 means off), and its `budget_duration`. */
  readonly globalMaxBudget: number | null
}

function ownWindow(table: WindowOwner['table'], id: string, row: { budgetDuration: string | null; budgetResetAt: Date | null } | null) {
  if (!row?.budgetDuration || !row.budgetResetAt) return null
  return { owner: { table, id }, endsAt: row.budgetResetAt, duration: row.budgetDuration }
}

const rowWindow = (row: BudgetRow | null) => (row ? ownWindow('budgets', row.budgetId, row) : null)

/** `model_max_budget[model]`: `{max_budget}` or LiteLLM's `{budget_limit}`. */
function modelCap(perModel: unknown, models: readonly string[]): number | null {
  if (!perModel || typeof perModel !== 'object') return null
  for (const model of models) {
    const entry = (perModel as Record<string, unknown>)[model]
    if (!entry || typeof entry !== 'object') continue
    const { max_budget: max, budget_limit: limit } = entry as Record<string, unknown>
    const cap = typeof max === 'number' ? max : typeof limit === 'number' ? limit : null
    if (cap !== null) return cap
  }
  return null
}

/** The key's cap: its own `max_budget` (else its tier's), raised by an unexpired `temp_budget_increase`. */
function keyCap(key: KeyRow, tier: BudgetRow | null, now: number): number | null {
  const base = key.maxBudget ?? tier?.maxBudget ?? null
  if (base === null) return null
  const temporary = key.tempBudgetIncrease && key.tempBudgetExpiry && key.tempBudgetExpiry.getTime() > now ? key.tempBudgetIncrease : 0
  return base + temporary
}

export function budgetLevels(s: BudgetSnapshots, policy: BudgetPolicy, now: number): LevelBudget[] {
  const levels: LevelBudget[] = []
  const add = (level: LevelBudget) => {
    if (level.maxBudget !== null || level.softBudget !== null) levels.push(level)
  }
  const plain = { prefix: '' }

  if (s.key && s.keyHash) {
    const window = ownWindow('keys', s.keyHash, s.key) ?? rowWindow(s.keyTier)
    const version = s.key.version
    add({ ...plain, level: 'key', id: s.keyHash, maxBudget: keyCap(s.key, s.keyTier, now), softBudget: s.key.softBudget ?? s.keyTier?.softBudget ?? null, source: { kind: 'key', id: s.keyHash }, window, version })
    const models = [...new Set([s.modelGroup, s.requestedModel])]
    const modelMax = modelCap(s.key.modelMaxBudget, models) ?? modelCap(s.keyTier?.modelMaxBudget, models)
    add({
      ...plain,
      level: 'key_model',
      id: `${s.keyHash}:${s.modelGroup}`,
      maxBudget: modelMax,
      softBudget: null,
      source: { kind: 'key_model', id: keyModelKey(s.keyHash, s.modelGroup) },
      window,
      version,
    })
  }

  if (s.team) {
    const team = s.team
    add({ ...plain, level: 'team', id: team.teamId, maxBudget: team.maxBudget, softBudget: team.softBudget, source: { kind: 'team', id: team.teamId }, window: ownWindow('teams', team.teamId, team), version: team.version })
    if (s.userId !== null) {
      const own = s.memberBudget
      const defaults = s.teamMemberDefaults
      add({
        level: 'team_member',
        id: `${team.teamId}:${s.userId}`,
        maxBudget: own?.maxBudget ?? defaults?.maxBudget ?? null,
        softBudget: own?.softBudget ?? defaults?.softBudget ?? null,
        source: { kind: 'membership', id: membershipKey(team.teamId, s.userId) },
        // The member's own window, else the team's default member window, else the team's (§6.7).
        window: rowWindow(own) ?? rowWindow(defaults) ?? ownWindow('teams', team.teamId, team),
        version: s.membership?.version ?? 0,
        prefix: `User=${s.userId} in Team=${team.teamId} `,
      })
    }
  }

  const teamKey = s.key !== null && s.key.teamId !== null
  if (s.user && !(teamKey && policy.skipUserBudgetOnTeamKey)) {
    const user = s.user
    add({ ...plain, level: 'user', id: user.userId, maxBudget: user.maxBudget, softBudget: user.softBudget, source: { kind: 'user', id: user.userId }, window: ownWindow('users', user.userId, user), version: user.version })
  }

  if (s.organizationId !== null && s.organizationBudget) {
    const budget = s.organizationBudget
    add({
      level: 'organization',
      id: s.organizationId,
      maxBudget: budget.maxBudget,
      softBudget: budget.softBudget,
      source: { kind: 'organization', id: s.organizationId },
      window: rowWindow(budget),
      version: s.organization?.version ?? 0,
      prefix: `Organization=${s.organizationId} `,
    })
  }

  if (s.endUserId !== null) {
    const budget = s.endUserBudget
    add({
      ...plain,
      level: 'end_user',
      id: s.endUserId,
      maxBudget: budget?.maxBudget ?? policy.maxEndUserBudget,
      softBudget: budget?.softBudget ?? null,
      source: { kind: 'end_user', id: s.endUserId },
      window: rowWindow(budget),
      version: s.endUser?.version ?? 0,
    })
  }

  for (const { tag, budget } of s.tags) {
    add({
      level: 'tag',
      id: tag.tagName,
      maxBudget: budget.maxBudget,
      softBudget: budget.softBudget,
      source: { kind: 'tag', id: tag.tagName },
      window: rowWindow(budget),
      version: tag.version,
      prefix: `Tag=${tag.tagName} `,
    })
  }

  if (policy.globalMaxBudget !== null) {
    add({
      ...plain,
      level: 'proxy',
      id: PROXY_BUDGET_USER,
      maxBudget: policy.globalMaxBudget,
      softBudget: null,
      source: { kind: 'user', id: PROXY_BUDGET_USER },
      window: ownWindow('users', PROXY_BUDGET_USER, s.proxyUser),
      version: s.proxyUser?.version ?? 0,
    })
  }
  return levels
}

/** Levels whose window has ended (`budget_reset_at <= now`), each owner once. */
export function dueWindows(levels: readonly LevelBudget[], now: number): BudgetWindow[] {
  const due = new Map<string, BudgetWindow>()
  for (const { window } of levels) {
    if (window && window.endsAt.getTime() <= now) due.set(`${window.owner.table}:${window.owner.id}`, window)
  }
  return [...due.values()]
}
