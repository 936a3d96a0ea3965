/**
 * Teams (§5.1): create, update, read, list, delete, block, models and member permissions. Each change is one
 * transaction with its audit rows, then the caches the data plane reads are evicted so it applies at once.
 * Members are in `member-service.ts`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import { adminOrganizationIds, canReadTeam, relationsOf } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { Invalidation } from '../../cache/invalidation'
import type { Patch, Repositories, TeamInsert, TeamRow } from '../../db/ports'
import { badRequest, forbidden, notFound, unprocessable } from '../../http/errors'
import { clientIdProblem, newId } from '../../lib/ids'
import { pythonList } from '../../lib/python-float'
import { totalPages } from '../shared/fields'
import { requireOrganization } from '../shared/lookups'
import { composeMetadata } from '../shared/metadata'
import { configuredModelNames } from '../shared/model-names'
import { deleteOwnedBudgets, saveOwnedBudget, windowEnd, type OwnedBudgetPatch } from '../shared/owned-budget'
import { takeUnactedFields } from '../shared/unacted-fields'
import { checkDuration, checkMoney, definedOnly } from '../shared/validate'
import { deleteKeyRows } from '../keys/key-rows'
import { checkTeamWithinOrganization, TEAM_LIMIT_FIELDS } from '../organizations/team-limits'
import { deleteMembership, memberSpecs, replaceMembers, restartInheritedWindows } from './memberships'
import {
  DEFAULT_TEAM_MEMBER_PERMISSIONS,
  KEY_MANAGEMENT_ROUTES,
  TEAM_UNACTED_FIELDS,
  teamListItem,
  teamResponse,
  type NewTeamBody,
  type TeamFields,
  type TeamListV2Query,
  type TeamView,
  type UpdateTeamBody,
} from './model'
import { loadTeamView, loadTeamViews } from './team-views'
import { authorizeNewTeam, authorizeTeamUpdate, requireManager, requireTeamAdministrator, visibleTeam } from './team-authz'

export type TeamDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'settings' | 'log'>

export function checkPermissions(permissions: readonly string[] | null | undefined): void {
  for (const permission of permissions ?? []) {
    if (!(KEY_MANAGEMENT_ROUTES as readonly string[]).includes(permission)) {
      throw badRequest(
        `Invalid team_member_permissions: ${permission} is not a key management route. Allowed permissions=${pythonList(KEY_MANAGEMENT_ROUTES)}`,
        'team_member_permissions',
      )
    }
  }
}

function checkTeamFields(body: TeamFields): void {
  for (const field of ['max_budget', 'soft_budget', 'spend', 'team_member_budget'] as const) checkMoney(field, body[field])
  checkDuration('budget_duration', body.budget_duration)
  checkDuration('team_member_budget_duration', body.team_member_budget_duration)
  checkPermissions(body.team_member_permissions)
}

function memberBudgetPatch(body: TeamFields): OwnedBudgetPatch {
  return {
    maxBudget: body.team_member_budget,
    budgetDuration: body.team_member_budget_duration,
    tpmLimit: body.team_member_tpm_limit,
    rpmLimit: body.team_member_rpm_limit,
  }
}

/** The team columns a request sets (absent = unchanged; null clears; a null list becomes empty). */
function teamColumns(body: TeamFields): Patch<TeamInsert> {
  return definedOnly({
    teamAlias: body.team_alias,
    organizationId: body.organization_id,
    models: body.models === null ? [] : body.models,
    modelAliases: body.model_aliases,
    maxBudget: body.max_budget,
    softBudget: body.soft_budget,
    spend: body.spend,
    budgetDuration: body.budget_duration,
    budgetResetAt: body.budget_reset_at === undefined ? undefined : body.budget_reset_at === null ? null : new Date(body.budget_reset_at),
    tpmLimit: body.tpm_limit,
    rpmLimit: body.rpm_limit,
    maxParallelRequests: body.max_parallel_requests,
    blocked: body.blocked,
    teamMemberPermissions: body.team_member_permissions === null ? DEFAULT_TEAM_MEMBER_PERMISSIONS : body.team_member_permissions,
  })
}

function metadataOverlay(deps: TeamDeps, actor: ChangeActor, body: TeamFields): Record<string, unknown> {
  return { tags: body.tags, ...takeUnactedFields(body, TEAM_UNACTED_FIELDS, deps.log, actor.route) }
}

const teamInvalidation = (teamId: string): Invalidation => ({ kind: 'teams', id: teamId })

export async function createTeam(deps: TeamDeps, actor: ChangeActor, input: NewTeamBody) {
  const body = await authorizeNewTeam(deps.repos, actor.principal, input)
  const teamId = body.team_id ?? newId()
  const idProblem = clientIdProblem(teamId)
  if (idProblem) throw unprocessable(`team_id: ${idProblem}`, 'team_id')
  checkTeamFields(body)
  const now = new Date(deps.clock.now())
  const columns = teamColumns(body)
  const metadata = composeMetadata({}, body.metadata, metadataOverlay(deps, actor, body)) ?? {}
  const by = actor.principal.userId

  const { view, invalidations } = await deps.repos.transaction(async (tx) => {
    if (await tx.teams.get(teamId)) throw badRequest(`Team id = ${teamId} already exists. Please use a different team id.`, 'team_id')
    if (body.organization_id) {
      await requireOrganization(tx, body.organization_id)
      const limits = { maxBudget: columns.maxBudget ?? null, tpmLimit: columns.tpmLimit ?? null, rpmLimit: columns.rpmLimit ?? null, models: columns.models ?? [] }
      await checkTeamWithinOrganization(tx, body.organization_id, limits, TEAM_LIMIT_FIELDS)
    }
    const memberBudget = await saveOwnedBudget(tx, actor, now, null, memberBudgetPatch(body))
    const team = await tx.teams.insert({
      ...columns,
      teamId,
      metadata,
      models: columns.models ?? [],
      teamMemberPermissions: columns.teamMemberPermissions ?? DEFAULT_TEAM_MEMBER_PERMISSIONS,
      budgetResetAt: columns.budgetResetAt === undefined ? windowEnd(columns.budgetDuration, now) : columns.budgetResetAt,
      teamMemberBudgetId: memberBudget.row?.budgetId ?? null,
      createdBy: by,
      updatedBy: by,
    })
    await recordChange(tx, actor, { action: 'created', tableName: 'teams', objectId: teamId, after: team })
    const invalidations = await replaceMembers(tx, deps, actor, team, memberSpecs(body) ?? [])
    return { view: await loadTeamView(tx, team), invalidations }
  })
  // A lookup of this id may have been cached as "no such team" before it existed.
  await deps.invalidator.publish(teamInvalidation(teamId), ...invalidations)
  return teamResponse(view)
}

export async function updateTeam(deps: TeamDeps, actor: ChangeActor, body: UpdateTeamBody) {
  checkTeamFields(body)
  const now = new Date(deps.clock.now())
  const patch = teamColumns(body)
  const specs = memberSpecs(body)

  const { view, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = visibleTeam(actor.principal, await tx.teams.get(body.team_id), body.team_id)
    requireManager(actor.principal, before, `Only proxy admins, the team's admins and its organization's admins can update team=${before.teamId}`)
    await authorizeTeamUpdate(tx, actor.principal, before, body)
    if (body.organization_id) await requireOrganization(tx, body.organization_id)
    const organizationId = patch.organizationId === undefined ? before.organizationId : patch.organizationId
    if (organizationId) {
      // A team moving into an organization must fit it whole; one already there, in the limits it changes.
      const moved = organizationId !== before.organizationId
      const fields = moved ? TEAM_LIMIT_FIELDS : TEAM_LIMIT_FIELDS.filter((field) => body[field] !== undefined)
      await checkTeamWithinOrganization(tx, organizationId, { ...before, ...patch }, fields)
    }
    const invalidations: Invalidation[] = [teamInvalidation(before.teamId)]
    const memberBudget = await saveOwnedBudget(tx, actor, now, before.teamMemberBudgetId, memberBudgetPatch(body))
    if (memberBudget.row?.budgetId !== before.teamMemberBudgetId) patch.teamMemberBudgetId = memberBudget.row?.budgetId ?? null
    if (before.teamMemberBudgetId) invalidations.push({ kind: 'budgets', id: before.teamMemberBudgetId })
    const metadata = composeMetadata(before.metadata, body.metadata, metadataOverlay(deps, actor, body))
    if (metadata) patch.metadata = metadata
    const durationChanged = patch.budgetDuration !== undefined && patch.budgetDuration !== before.budgetDuration
    if (durationChanged) {
      // A changed window length starts a fresh window now (§6.7); the same value again changes nothing.
      if (patch.budgetDuration) patch.spend ??= 0
      patch.budgetResetAt ??= windowEnd(patch.budgetDuration, now)
    }
    const team = (await tx.teams.update(before.teamId, { ...patch, updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action: 'updated', tableName: 'teams', objectId: team.teamId, before, after: team })
    if (specs) invalidations.push(...(await replaceMembers(tx, deps, actor, team, specs)))
    if (memberBudget.windowRestarted) invalidations.push(...(await restartInheritedWindows(tx, team, 'member_default')))
    if (durationChanged && patch.budgetDuration) invalidations.push(...(await restartInheritedWindows(tx, team, 'team')))
    return { view: await loadTeamView(tx, team), invalidations }
  })
  await deps.invalidator.publish(...invalidations)
  return { team_id: view.team.teamId, data: teamResponse(view) }
}

/** Team reads show the current window's spend (§6.7): the team (and with it its members' windows) first. */
type TeamReadDeps = TeamDeps & Pick<AppContext, 'budgets'>

async function currentViews(deps: TeamReadDeps, rows: readonly TeamRow[]): Promise<TeamView[]> {
  const { current } = deps.budgets
  const views = await loadTeamViews(deps.repos, await current.teams(rows), { keys: true })
  return Promise.all(views.map(async (view) => ({ ...view, memberships: await current.memberships(view.memberships), keys: await current.keys(view.keys) })))
}

export async function teamInfo(deps: TeamReadDeps, principal: Principal, teamId: string | undefined) {
  if (!teamId) throw unprocessable('Malformed request. No team id passed in.', 'team_id')
  const team = await deps.repos.teams.get(teamId)
  // A caller outside the team gets the contract's 403 whether or not it exists, so ids cannot be probed.
  if (!isAdminRole(principal) && (!team || !canReadTeam(principal, team))) {
    throw forbidden(`User=${principal.userId} not authorized to access this team=${teamId}`)
  }
  if (!team) throw notFound(`Team not found, passed team id: ${teamId}.`, 'team_id')
  const [view] = await currentViews(deps, [team])
  const { keys, team_memberships } = teamListItem(view)
  return { team_id: team.teamId, team_info: teamResponse(view, configuredModelNames(deps.settings)), keys, team_memberships }
}

/**
 * The teams a non-admin may list: the ones they belong to and those of organizations they administer. Asking
 * for another user's teams is for admin roles only.
 */
async function visibleTeamIds(deps: TeamDeps, principal: Principal, userId: string | undefined): Promise<string[] | undefined> {
  if (isAdminRole(principal)) return undefined
  if (userId !== undefined && userId !== principal.userId) {
    throw forbidden(`Only admin users can query all teams/other teams. Your user role=${principal.role}`)
  }
  const ids = [...relationsOf(principal).teams.keys()]
  for (const organizationId of adminOrganizationIds(principal)) ids.push(...(await deps.repos.teams.list({ organizationId })).rows.map((t) => t.teamId))
  return [...new Set(ids)]
}

export async function listTeams(deps: TeamReadDeps, principal: Principal, query: { user_id?: string; organization_id?: string }) {
  const organizationId = query.organization_id === 'default_organization' ? null : query.organization_id
  const teamIds = await visibleTeamIds(deps, principal, query.user_id)
  const { rows } = await deps.repos.teams.list({ userId: query.user_id, organizationId, teamIds })
  return (await currentViews(deps, rows)).map(teamListItem)
}

export async function listTeamsPaged(deps: TeamReadDeps, principal: Principal, query: TeamListV2Query) {
  const organizationId = query.organization_id === 'default_organization' ? null : query.organization_id
  const page = { offset: (query.page - 1) * query.page_size, limit: query.page_size }
  const teamIds = await visibleTeamIds(deps, principal, query.user_id)
  const { rows, total } = await deps.repos.teams.list({ userId: query.user_id, organizationId, teamAlias: query.team_alias, teamIds }, page)
  const teams = (await currentViews(deps, rows)).map(teamListItem)
  return { teams, total, page: query.page, page_size: query.page_size, total_pages: totalPages(total, query.page_size) }
}

/** Deletes teams with their keys, memberships and member budget rows; any unknown id and nothing is deleted. */
export async function deleteTeams(deps: TeamDeps, actor: ChangeActor, teamIds: readonly string[]) {
  const ids = [...new Set(teamIds)]
  const now = new Date(deps.clock.now())
  const invalidations = await deps.repos.transaction(async (tx) => {
    const teams: TeamRow[] = []
    for (const id of ids) {
      const team = visibleTeam(actor.principal, await tx.teams.get(id), id)
      requireTeamAdministrator(actor.principal, team, 'delete')
      teams.push(team)
    }
    const invalidations: Invalidation[] = []
    for (const team of teams) invalidations.push(...(await deleteTeamRow(tx, actor, team, now)))
    return invalidations
  })
  await deps.invalidator.publish(...invalidations)
  return { deleted_teams: ids }
}

async function deleteTeamRow(tx: Repositories, actor: ChangeActor, team: TeamRow, now: Date): Promise<Invalidation[]> {
  const invalidations = await deleteKeyRows(tx, actor, await tx.keys.listByTeam(team.teamId), now)
  for (const membership of await tx.memberships.listByTeam(team.teamId)) invalidations.push(...(await deleteMembership(tx, actor, membership)))
  for (const budgetId of await deleteOwnedBudgets(tx, actor, [team.teamMemberBudgetId])) invalidations.push({ kind: 'budgets', id: budgetId })
  await tx.teams.delete(team.teamId)
  await tx.archive.archiveTeam(team, { deletedAt: now, deletedBy: actor.changedBy ?? actor.principal.userId })
  await recordChange(tx, actor, { action: 'deleted', tableName: 'teams', objectId: team.teamId, before: team })
  invalidations.push(teamInvalidation(team.teamId))
  return invalidations
}

/** One audited change to a team row that answers with the team object (block, models, permissions). */
async function changeTeam(
  deps: TeamDeps,
  actor: ChangeActor,
  teamId: string,
  action: 'updated' | 'blocked' | 'unblocked',
  change: (team: TeamRow) => Partial<TeamInsert>,
  authorize: (team: TeamRow) => void,
) {
  const view = await deps.repos.transaction(async (tx) => {
    const before = visibleTeam(actor.principal, await tx.teams.get(teamId), teamId)
    authorize(before)
    const team = (await tx.teams.update(teamId, { ...change(before), updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action, tableName: 'teams', objectId: teamId, before, after: team })
    return loadTeamView(tx, team)
  })
  await deps.invalidator.publish(teamInvalidation(teamId))
  return teamResponse(view)
}

export function setTeamBlocked(deps: TeamDeps, actor: ChangeActor, teamId: string, blocked: boolean) {
  return changeTeam(deps, actor, teamId, blocked ? 'blocked' : 'unblocked', () => ({ blocked }), (team) =>
    requireTeamAdministrator(actor.principal, team, blocked ? 'block' : 'unblock'),
  )
}

const MODELS_DENIED = 'Only proxy admin or team admin can modify team models'

export function addTeamModels(deps: TeamDeps, actor: ChangeActor, teamId: string, models: readonly string[]) {
  return changeTeam(deps, actor, teamId, 'updated', (team) => ({ models: [...new Set([...team.models, ...models])] }), (team) =>
    requireManager(actor.principal, team, MODELS_DENIED),
  )
}

export function removeTeamModels(deps: TeamDeps, actor: ChangeActor, teamId: string, models: readonly string[]) {
  return changeTeam(deps, actor, teamId, 'updated', (team) => ({ models: team.models.filter((model) => !models.includes(model)) }), (team) =>
    requireManager(actor.principal, team, MODELS_DENIED),
  )
}

export function updateTeamPermissions(deps: TeamDeps, actor: ChangeActor, teamId: string, permissions: readonly string[]) {
  checkPermissions(permissions)
  return changeTeam(deps, actor, teamId, 'updated', () => ({ teamMemberPermissions: [...new Set(permissions)] }), (team) =>
    requireManager(actor.principal, team, `Only proxy admins, the team's admins and its organization's admins can change team=${team.teamId}'s member permissions`),
  )
}

export async function teamPermissions(deps: TeamDeps, principal: Principal, teamId: string) {
  const team = visibleTeam(principal, await deps.repos.teams.get(teamId), teamId)
  return { team_id: team.teamId, team_member_permissions: team.teamMemberPermissions, all_available_permissions: [...KEY_MANAGEMENT_ROUTES] }
}

/** Teams listed in `default_internal_user_params.available_teams` that the caller has not joined. */
export async function availableTeams(deps: TeamDeps, principal: Principal) {
  const configured = deps.settings.config.litellm_settings.default_internal_user_params?.available_teams
  const ids = Array.isArray(configured) ? configured.filter((id): id is string => typeof id === 'string') : []
  const joined = new Set(principal.userId ? (await deps.repos.memberships.listByUser(principal.userId)).map((m) => m.teamId) : [])
  const teams = await deps.repos.teams.getMany(ids.filter((id) => !joined.has(id)))
  return (await loadTeamViews(deps.repos, teams, { keys: false })).map((view) => teamResponse(view))
}
