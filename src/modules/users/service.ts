/**
 * Users (§5.4): create (with teams, organizations and a key of their own), update, bulk update and delete.
 * Each change is one transaction with its audit rows (the key, memberships and budget rows included), then
 * the caches the data plane reads are evicted. Reads are in `reads.ts`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import { fieldRefused, refuseChangedFields, refuseRemovedCap } from '../../auth/field-rules'
import { adminOrganizationIds, canManageTeam } from '../../auth/object-access'
import { isProxyAdmin, type GlobalRole, type Principal } from '../../auth/principal'
import type { Invalidation } from '../../cache/invalidation'
import type { Repositories, UserRow } from '../../db/ports'
import { ApiError, badRequest, conflict, forbidden, notFound, unprocessable } from '../../http/errors'
import { clientIdProblem, newId } from '../../lib/ids'
import { generatedKeyResponse, insertPreparedKey, prepareGenerate, type PreparedKey } from '../keys/service'
import { deleteKeyRows } from '../keys/key-rows'
import { deleteOrganizationMembership, insertOrganizationMembership } from '../organizations/memberships'
import { requireOrganization, requireTeam } from '../shared/lookups'
import { composeMetadata } from '../shared/metadata'
import { windowEnd } from '../shared/owned-budget'
import { takeUnactedFields } from '../shared/unacted-fields'
import { checkMoney } from '../shared/validate'
import { deleteMembership, insertMembership, membershipInvalidation } from '../teams/memberships'
import { findUser } from './find-or-create'
import { administersUser } from './reads'
import { USER_UNACTED_FIELDS, userResponse, type BulkUpdateUsersBody, type NewUserBody, type UpdateUserBody } from './model'
import { checkUserFields, passwordHashOf, userColumns, withUserDefaults } from './user-fields'

export type UserDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'settings' | 'log' | 'database'>

const ADMIN_ROLES: readonly GlobalRole[] = ['proxy_admin', 'proxy_admin_viewer']
const MAX_BULK = 500

export const userNotFound = (userId: string) => notFound(`User not found, passed user_id=${userId}`, 'user_id')
const emailTaken = (email: string) => conflict(`User with email ${email} already exists`, 'user_email')
const idTaken = (userId: string) => conflict(`User with id ${userId} already exists`, 'user_id')

/** The key fields of a `/user/new` response when no key was created. */
const NO_KEY = { token: null, key_name: null, key_alias: null, expires: null, duration: null }

type TeamEntry = { teamId: string; role: 'admin' | 'user'; maxBudget: number | null | undefined }

/** `teams` as ids or entries, one per team (named twice: admin if either entry says so). */
function teamEntries(teams: NewUserBody['teams']): TeamEntry[] {
  const byId = new Map<string, TeamEntry>()
  for (const entry of teams ?? []) {
    const next: TeamEntry =
      typeof entry === 'string'
        ? { teamId: entry, role: 'user', maxBudget: undefined }
        : { teamId: entry.team_id, role: entry.user_role ?? 'user', maxBudget: entry.max_budget_in_team }
    checkMoney('max_budget_in_team', next.maxBudget)
    const previous = byId.get(next.teamId)
    byId.set(next.teamId, previous?.role === 'admin' ? { ...next, role: 'admin' } : next)
  }
  return [...byId.values()]
}

async function ensureEmailFree(tx: Repositories, email: string | null | undefined, ownId: string | null): Promise<void> {
  if (!email) return
  if ((await tx.users.findByEmail(email)).some((user) => user.userId !== ownId)) throw emailTaken(email)
}

/**
 * A concurrent request can take the id, email or key alias between the check and the write; the database's
 * unique index answers then, and this says which one.
 */
async function mappingUniqueRace<T>(
  deps: UserDeps,
  taken: { userId?: string; email?: string | null; keyAlias?: string | null; ownId?: string },
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!deps.database.dialect.isUniqueViolation(error)) throw error
    if (taken.userId && (await deps.repos.users.get(taken.userId))) throw idTaken(taken.userId)
    if (taken.email && (await deps.repos.users.findByEmail(taken.email)).some((u) => u.userId !== taken.ownId)) throw emailTaken(taken.email)
    if (taken.keyAlias) {
      throw badRequest(`Key with alias '${taken.keyAlias}' already exists. Unique key aliases across all keys are required.`, 'key_alias')
    }
    throw error
  }
}

export async function createUser(deps: UserDeps, actor: ChangeActor, input: NewUserBody) {
  const body = withUserDefaults(deps.settings, input)
  if (ADMIN_ROLES.includes(body.user_role) && !isProxyAdmin(actor.principal)) {
    throw forbidden('Only proxy admins can create administrative users (proxy_admin, proxy_admin_viewer)')
  }
  const userId = body.user_id ?? newId()
  const idProblem = clientIdProblem(userId)
  if (idProblem) throw unprocessable(`user_id: ${idProblem}`, 'user_id')
  checkUserFields(body)
  const teams = teamEntries(body.teams)
  const organizationIds = organizationsOfNewUser(actor.principal, body.organizations)
  const metadata = composeMetadata({}, body.metadata, takeUnactedFields(body, USER_UNACTED_FIELDS, deps.log, actor.route)) ?? {}
  const prepared: PreparedKey | null =
    body.auto_create_key === false ? null : prepareGenerate(deps, actor, { user_id: userId, key_alias: body.key_alias, duration: body.duration })
  const passwordHash = (await passwordHashOf(body.password)) ?? null
  const now = new Date(deps.clock.now())
  const columns = userColumns(body)
  const by = actor.principal.userId

  const created = await mappingUniqueRace(deps, { userId, email: body.user_email, keyAlias: prepared?.columns.keyAlias }, () =>
    deps.repos.transaction(async (tx) => {
      if (await tx.users.get(userId)) throw idTaken(userId)
      await ensureEmailFree(tx, body.user_email, null)
      const user = await tx.users.insert({
        ...columns,
        userId,
        userRole: body.user_role,
        passwordHash,
        models: columns.models ?? [],
        metadata,
        budgetResetAt: windowEnd(columns.budgetDuration, now),
        createdBy: by,
        updatedBy: by,
      })
      // A user created into organizations shows in their admins' audit view (the first one: one column).
      await recordChange(tx, actor, { action: 'created', tableName: 'users', objectId: userId, after: user, organizationId: organizationIds[0] ?? null })
      const invalidations: Invalidation[] = [{ kind: 'users', id: userId }]
      for (const entry of teams) {
        const team = await requireTeam(tx, entry.teamId)
        if (!canManageTeam(actor.principal, team)) throw fieldRefused('teams', `team=${team.teamId} is not one of your organizations' teams`)
        await insertMembership(tx, deps, actor, team, user, entry.role, { maxBudget: entry.maxBudget })
        invalidations.push(membershipInvalidation(team.teamId, userId))
      }
      for (const organizationId of organizationIds) {
        const organization = await requireOrganization(tx, organizationId, 404)
        await insertOrganizationMembership(tx, deps, actor, organization, user, 'internal_user')
      }
      const key = prepared ? await insertPreparedKey(tx, deps, actor, prepared) : null
      if (key) invalidations.push(...key.invalidations)
      return { user, key, invalidations }
    }),
  )
  await deps.invalidator.publish(...created.invalidations)
  const keyFields = prepared && created.key ? generatedKeyResponse(prepared, created.key.row, created.key.budget) : NO_KEY
  return {
    ...keyFields,
    ...userResponse(created.user),
    teams: teams.map((entry) => entry.teamId),
    organizations: organizationIds,
    key: prepared?.plaintext ?? null,
  }
}

/**
 * `/user/new` by an organization admin: the user joins organizations they administer (the only one when they
 * administer one and name none), never others.
 */
function organizationsOfNewUser(principal: Principal, asked: readonly string[] | null | undefined): string[] {
  if (isProxyAdmin(principal)) return [...new Set(asked ?? [])]
  const own = adminOrganizationIds(principal)
  const wanted = asked && asked.length > 0 ? [...new Set(asked)] : own.length === 1 ? own : []
  if (wanted.length === 0 || wanted.some((id) => !own.includes(id))) {
    throw fieldRefused('organizations', 'an organization admin creates users in organizations they administer')
  }
  return wanted
}

/** What a user may change about themselves (§4): everything else is an admin's. */
const SELF_FIELDS = new Set(['user_id', 'user_email', 'user_alias', 'password', 'metadata'])

/** Role changes are for proxy admins only (§4). */
function checkRoleChange(principal: Principal, body: UpdateUserBody): void {
  if (isProxyAdmin(principal)) return
  if (body.user_role !== undefined && body.user_role !== null) throw forbidden('Only proxy admins can modify user roles.')
}

const othersRefused = () => forbidden('User does not have permission to update this user. Only PROXY_ADMIN can update other users.')

/**
 * `/user/update` by a caller other than a proxy admin: themselves (alias, email, password, metadata only), or
 * a member of an organization they administer (anything but the role, spend, or removing a cap). Anyone else is
 * refused before it is looked up, so the answer does not tell whether the user exists.
 */
async function authorizeUserUpdate(tx: Repositories, principal: Principal, body: UpdateUserBody, target: UserRow | null): Promise<void> {
  if (isProxyAdmin(principal)) return
  if (target?.userId === principal.userId) {
    const field = Object.keys(body).find((name) => (body as Record<string, unknown>)[name] !== undefined && !SELF_FIELDS.has(name))
    if (field) throw fieldRefused(field, 'a user may change only their own user_alias, user_email, password and metadata')
    return
  }
  // Org admins update their organizations' members; team admins do not update users (§4).
  if (!target || !(await administersUser(tx, principal, target.userId, { teams: false }))) throw othersRefused()
  refuseChangedFields(body as Record<string, unknown>, ['spend'], { spend: target.spend })
  refuseRemovedCap('max_budget', body.max_budget, target.maxBudget)
}


async function requireUserFor(tx: Repositories, body: UpdateUserBody): Promise<UserRow> {
  const user = await findUser(tx, body)
  if (user) return user
  throw body.user_id ? userNotFound(body.user_id) : notFound(`User not found, passed user_email=${body.user_email}`, 'user_email')
}

/**
 * `/user/update`: the user named by `user_id` (then `user_email` is a new email) or else by `user_email`. No
 * implicit creation. A changed `budget_duration` starts a fresh window (spend 0, §6.7).
 */
export async function updateUser(deps: UserDeps, actor: ChangeActor, body: UpdateUserBody) {
  if (!body.user_id && !body.user_email) throw badRequest('Either user id or user email must be provided', 'user_id')
  checkRoleChange(actor.principal, body)
  checkUserFields(body)
  const passwordHash = await passwordHashOf(body.password)
  const now = new Date(deps.clock.now())
  const newEmail = body.user_id ? body.user_email : undefined

  const user = await mappingUniqueRace(deps, { email: newEmail, ownId: body.user_id ?? undefined }, () =>
    deps.repos.transaction(async (tx) => {
      const principal = actor.principal
      const namesSelf = body.user_id ? body.user_id === principal.userId : undefined
      // Non-admins naming someone else by id are refused before any lookup.
      if (!isProxyAdmin(principal) && namesSelf === false && adminOrganizationIds(principal).length === 0) throw othersRefused()
      const found = await findUser(tx, body)
      await authorizeUserUpdate(tx, principal, body, found)
      const before = found ?? (await requireUserFor(tx, body))
      if (newEmail && newEmail.toLowerCase() !== before.userEmail?.toLowerCase()) await ensureEmailFree(tx, newEmail, before.userId)
      const patch = userColumns({ ...body, user_email: newEmail })
      if (passwordHash !== undefined) patch.passwordHash = passwordHash
      const metadata = composeMetadata(before.metadata, body.metadata, takeUnactedFields(body, USER_UNACTED_FIELDS, deps.log, actor.route))
      if (metadata) patch.metadata = metadata
      if (patch.budgetDuration !== undefined && patch.budgetDuration !== before.budgetDuration) {
        if (patch.budgetDuration) patch.spend ??= 0
        patch.budgetResetAt = windowEnd(patch.budgetDuration, now)
      }
      const user = (await tx.users.update(before.userId, { ...patch, updatedBy: actor.principal.userId }))!
      await recordChange(tx, actor, { action: 'updated', tableName: 'users', objectId: user.userId, before, after: user })
      return user
    }),
  )
  await deps.invalidator.publish({ kind: 'users', id: user.userId })
  return userResponse(user)
}

async function allUserIds(repos: Repositories): Promise<string[]> {
  const ids: string[] = []
  for (let offset = 0; ; offset += MAX_BULK) {
    const { rows } = await repos.users.list({}, { offset, limit: MAX_BULK }, { by: 'user_id', order: 'asc' })
    ids.push(...rows.map((row) => row.userId))
    if (rows.length < MAX_BULK) return ids
  }
}

/** Each user is its own transaction: one refusal does not undo the others (as `/key/bulk_update`). */
export async function bulkUpdateUsers(deps: UserDeps, actor: ChangeActor, body: BulkUpdateUsersBody) {
  let items: UpdateUserBody[]
  if (body.all_users) {
    if (!body.user_updates) throw badRequest("'user_updates' is required when 'all_users' is true", 'user_updates')
    const updates = body.user_updates
    items = (await allUserIds(deps.repos)).map((userId) => ({ ...updates, user_id: userId }))
  } else if (body.users && body.users.length > 0) {
    items = body.users
  } else {
    throw badRequest("Either 'users' or 'all_users' with 'user_updates' must be provided", 'users')
  }
  if (items.length > MAX_BULK) throw badRequest(`Maximum ${MAX_BULK} users can be updated at once. Found ${items.length} users.`, 'users')
  const results = []
  for (const item of items) {
    try {
      const updated = await updateUser(deps, actor, item)
      results.push({ user_id: updated.user_id, user_email: updated.user_email, success: true, updated_user: updated, error: null })
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      results.push({ user_id: item.user_id ?? null, user_email: item.user_email ?? null, success: false, updated_user: null, error: error.message })
    }
  }
  const successful = results.filter((result) => result.success).length
  return { results, total_requested: items.length, successful_updates: successful, failed_updates: items.length - successful }
}

/**
 * Deletes users with their keys (archived), team and organization memberships (with their own budget rows);
 * all or nothing. The audit rows keep a copy of each user as it was.
 */
export async function deleteUsers(deps: UserDeps, actor: ChangeActor, userIds: readonly string[] | null | undefined): Promise<number> {
  const ids = [...new Set(userIds ?? [])]
  if (ids.length === 0) throw badRequest('No user id passed in', 'user_ids')
  const now = new Date(deps.clock.now())
  const invalidations = await deps.repos.transaction(async (tx) => {
    const users: UserRow[] = []
    for (const id of ids) {
      const user = await tx.users.get(id)
      if (!user) throw userNotFound(id)
      users.push(user)
    }
    const invalidations: Invalidation[] = []
    for (const user of users) {
      invalidations.push(...(await deleteKeyRows(tx, actor, await tx.keys.listByUser(user.userId), now)))
      for (const membership of await tx.memberships.listByUser(user.userId)) invalidations.push(...(await deleteMembership(tx, actor, membership)))
      for (const membership of await tx.organizationMemberships.listByUser(user.userId)) {
        invalidations.push(...(await deleteOrganizationMembership(tx, actor, membership)))
      }
      await tx.users.delete(user.userId)
      await recordChange(tx, actor, { action: 'deleted', tableName: 'users', objectId: user.userId, before: user })
      invalidations.push({ kind: 'users', id: user.userId })
    }
    return invalidations
  })
  await deps.invalidator.publish(...invalidations)
  return ids.length
}
