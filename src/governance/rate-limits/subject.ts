/**
 * Which limits apply to a request: `limitLevels` turns the principal's snapshots into the ordered level list
 * (pure), `loadLimitSnapshots` reads the budget rows it needs from the entity caches (no database round trip
 * when warm). Team-member limits are always enforced (pitfall 14), with or without the multi-instance flag.
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import { membershipCacheId, type EntityCaches } from '../../cache/entity-caches'
import type { BudgetRow, KeyRow, TeamRow, UserRow } from '../../db/ports'
import type { LevelLimit } from './levels'

export type LimitSnapshots = {
  readonly keyHash: string | null
  readonly key: KeyRow | null
  /** The model group the request names (keys `model_rpm_limit` / `model_tpm_limit`). */
  readonly model: string | null
  readonly team: TeamRow | null
  readonly userId: string | null
  readonly user: UserRow | null
  /** The member's own budget row (team membership `budget_id`). */
  readonly memberBudget: BudgetRow | null
  /** The team's default member row (`team_member_rpm_limit` / `team_member_tpm_limit`). */
  readonly teamMemberDefaults: BudgetRow | null
  readonly endUserId: string | null
  readonly endUserBudget: BudgetRow | null
  readonly organizationId: string | null
  readonly organizationBudget: BudgetRow | null
}

export type LimitDefaults = {
  /** `general_settings.max_parallel_requests`: a key's slots when the key sets none. */
  readonly keyMaxParallel: number | null
}

export function limitLevels(s: LimitSnapshots, defaults: LimitDefaults): LevelLimit[] {
  const levels: LevelLimit[] = []
  const add = (level: LevelLimit['level'], id: string, rpm: number | null, tpm: number | null, maxParallel: number | null = null) => {
    if (rpm !== null || tpm !== null || maxParallel !== null) levels.push({ level, id, rpm, tpm, maxParallel })
  }
  if (s.key && s.keyHash) {
    add('api_key', s.keyHash, s.key.rpmLimit, s.key.tpmLimit, s.key.maxParallelRequests ?? defaults.keyMaxParallel)
    if (s.model !== null) {
      add('model_per_key', `${s.keyHash}:${s.model}`, perModel(s.key.metadata, 'model_rpm_limit', s.model), perModel(s.key.metadata, 'model_tpm_limit', s.model))
    }
  }
  if (s.team) {
    add('team', s.team.teamId, s.team.rpmLimit, s.team.tpmLimit, s.team.maxParallelRequests)
    if (s.userId !== null) {
      // Field by field: a member row that only sets a budget keeps the team's default member limits.
      add(
        'team_member',
        `${s.team.teamId}:${s.userId}`,
        s.memberBudget?.rpmLimit ?? s.teamMemberDefaults?.rpmLimit ?? null,
        s.memberBudget?.tpmLimit ?? s.teamMemberDefaults?.tpmLimit ?? null,
      )
    }
  }
  if (s.user) add('user', s.user.userId, s.user.rpmLimit, s.user.tpmLimit)
  if (s.endUserId !== null && s.endUserBudget) add('end_user', s.endUserId, s.endUserBudget.rpmLimit, s.endUserBudget.tpmLimit)
  if (s.organizationId !== null && s.organizationBudget) {
    add('organization', s.organizationId, s.organizationBudget.rpmLimit, s.organizationBudget.tpmLimit)
  }
  return levels
}

/** `metadata.model_rpm_limit[model]` when it is a non-negative integer. */
function perModel(metadata: unknown, field: string, model: string): number | null {
  const limits = metadata && typeof metadata === 'object' ? (metadata as Record<string, unknown>)[field] : null
  const value = limits && typeof limits === 'object' ? (limits as Record<string, unknown>)[model] : null
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null
}

/** Reads, from the caches, the budget rows the principal's limits live in. */
export async function loadLimitSnapshots(
  caches: EntityCaches,
  principal: Principal,
  request: { model: string | null; endUserId: string | null },
): Promise<LimitSnapshots> {
  const budget = (id: string | null | undefined) => (id ? caches.budgets.get(id) : Promise.resolve(null))
  const { key, team } = principal
  const membership =
    principal.membership ?? (team && principal.userId ? await caches.memberships.get(membershipCacheId(team.teamId, principal.userId)) : null)
  const organizationId = key?.organizationId ?? team?.organizationId ?? principal.organizationId ?? null
  const endUser = request.endUserId ? await caches.endUsers.get(request.endUserId) : null
  const organization = organizationId ? await caches.organizations.get(organizationId) : null
  const [memberBudget, teamMemberDefaults, endUserBudget, organizationBudget] = await Promise.all([
    budget(membership?.budgetId),
    budget(team?.teamMemberBudgetId),
    budget(endUser?.budgetId),
    budget(organization?.budgetId),
  ])
  return {
    keyHash: principal.keyHash,
    key,
    model: request.model,
    team,
    userId: principal.userId,
    user: principal.user,
    memberBudget,
    teamMemberDefaults,
    endUserId: request.endUserId,
    endUserBudget,
    organizationId,
    organizationBudget,
  }
}

/** The levels for one request: snapshots from the caches, the key default from `general_settings`. */
export async function requestLimitLevels(
  context: Pick<AppContext, 'caches' | 'settings'>,
  principal: Principal,
  request: { model: string | null; endUserId: string | null },
): Promise<LevelLimit[]> {
  const snapshots = await loadLimitSnapshots(context.caches, principal, request)
  return limitLevels(snapshots, { keyMaxParallel: context.settings.config.general_settings.max_parallel_requests ?? null })
}
