/**
 * Reads, from the entity caches, every row a request's budgets live in (no database round trip when warm).
 * The principal's own key, team and user are re-read through the caches too, so a window turned over since
 * the credential was resolved (the caches were evicted) is seen at once.
 */
import type { Principal } from '../../auth/principal'
import { membershipCacheId, type EntityCaches } from '../../cache/entity-caches'
import type { BudgetRow, TagRow } from '../../db/ports'
import { PROXY_BUDGET_USER } from '../../spend/increments'
import type { BudgetSnapshots } from './levels'

export type BudgetRequest = {
  readonly principal: Principal
  readonly modelGroup: string
  readonly requestedModel: string
  readonly organizationId: string | null
  readonly endUser: string | null
  readonly tags: readonly string[]
}

export type SnapshotOptions = {
  /** `litellm_settings.max_end_user_budget_id` */
  readonly defaultEndUserBudgetId: string | null
  /** Whether the global proxy budget is on (its pseudo-user is read). */
  readonly globalBudget: boolean
}

export async function loadBudgetSnapshots(caches: EntityCaches, request: BudgetRequest, options: SnapshotOptions): Promise<BudgetSnapshots> {
  const { principal } = request
  const budget = (id: string | null | undefined): Promise<BudgetRow | null> => (id ? caches.budgets.get(id) : Promise.resolve(null))
  const [keyLookup, cachedTeam, cachedUser] = await Promise.all([
    principal.keyHash ? caches.keys.get(principal.keyHash) : null,
    principal.team ? caches.teams.get(principal.team.teamId) : null,
    principal.user ? caches.users.get(principal.user.userId) : null,
  ])
  const key = keyLookup?.key ?? principal.key
  const team = cachedTeam ?? principal.team
  const user = cachedUser ?? principal.user
  const membership = team && principal.userId ? await caches.memberships.get(membershipCacheId(team.teamId, principal.userId)) : null
  const organizationId = request.organizationId ?? principal.organizationId ?? null
  const [organization, endUser, proxyUser] = await Promise.all([
    organizationId ? caches.organizations.get(organizationId) : null,
    request.endUser ? caches.endUsers.get(request.endUser) : null,
    options.globalBudget ? caches.users.get(PROXY_BUDGET_USER) : null,
  ])
  const [keyTier, memberBudget, teamMemberDefaults, organizationBudget, endUserBudget] = await Promise.all([
    budget(key?.budgetId),
    budget(membership?.budgetId),
    budget(team?.teamMemberBudgetId),
    budget(organization?.budgetId),
    request.endUser ? budget(endUser?.budgetId ?? options.defaultEndUserBudgetId) : null,
  ])
  const tags: Array<{ tag: TagRow; budget: BudgetRow }> = []
  for (const name of request.tags) {
    const tag = await caches.tags.get(name)
    const row = await budget(tag?.budgetId)
    if (tag && row) tags.push({ tag, budget: row })
  }
  return {
    keyHash: principal.keyHash,
    key,
    keyTier,
    modelGroup: request.modelGroup,
    requestedModel: request.requestedModel,
    team,
    userId: principal.userId,
    membership,
    memberBudget,
    teamMemberDefaults,
    user,
    organizationId,
    organization,
    organizationBudget,
    endUserId: request.endUser,
    endUser,
    endUserBudget,
    tags,
    proxyUser,
  }
}
