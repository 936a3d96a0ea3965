/**
 * Virtual keys (§5.3): generate, update, read, list, delete, block and reset spend. Every change runs in one
 * transaction with its audit row and then evicts the key from the caches the data plane reads, so it takes
 * effect for the next request. Rotation lives in `rotation.ts`.
 */
import type { AppContext } from '../../app-context'
import { recordChange, type ChangeActor } from '../../audit/record'
import { canReadKey, keyWriteRight, mayResetKeySpend } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { Invalidation } from '../../cache/invalidation'
import type { BudgetRow, KeyRow, KeySortColumn, Repositories, SortOrder } from '../../db/ports'
import { ApiError, badRequest, forbidden, notFound, unprocessable } from '../../http/errors'
import { newVirtualKey } from '../../lib/ids'
import { pythonFloat } from '../../lib/python-float'
import { isVirtualKeyFormat, maskLast4, sha256Hex } from '../../lib/secrets'
import { formatTimestamp } from '../../lib/time'
import { totalPages } from '../shared/fields'
import { composeMetadata } from '../shared/metadata'
import { windowEnd } from '../shared/owned-budget'
import { takeUnactedFields } from '../shared/unacted-fields'
import { applyUpperBounds, checkKeyFields, checkTempBudget, keyColumns, keyMetadataOverlay, withDefaultParams } from './key-fields'
import { authorizeGenerate, authorizeUpdate, defaultKeyOwner } from './key-authz'
import { checkGuaranteedThroughput, ownersForGenerate, ownersForUpdate } from './key-owners'
import { visibleKeys } from './key-scope'
import { deleteKeyRows, keyBudgets, keyInvalidations, keyNameOf, tokenOf } from './key-rows'
import {
  KEY_UNACTED_FIELDS,
  keyResponse,
  type GenerateKeyBody,
  type KeyFields,
  type KeyListQuery,
  type UpdateKeyBody,
} from './model'

export type KeyDeps = Pick<AppContext, 'repos' | 'clock' | 'invalidator' | 'settings' | 'log' | 'database'>

export const keyNotFound = () => notFound('Key not found in database', 'key')

const aliasTaken = (alias: string) =>
  badRequest(`Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`, 'key_alias')

async function ensureAliasFree(tx: Repositories, alias: string, ownToken: string | null): Promise<void> {
  const holder = await tx.keys.getByAlias(alias)
  if (holder && holder.token !== ownToken) throw aliasTaken(alias)
}

/** A concurrent request can take an alias between the check and the write; the unique index answers then. */
export async function mappingAliasRace<T>(deps: KeyDeps, alias: string | null | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (alias && deps.database.dialect.isUniqueViolation(error)) throw aliasTaken(alias)
    throw error
  }
}

function metadataOverlay(deps: KeyDeps, actor: ChangeActor, body: KeyFields): Record<string, unknown> {
  return { ...keyMetadataOverlay(body), ...takeUnactedFields(body, KEY_UNACTED_FIELDS, deps.log, actor.route) }
}

async function budgetOf(repos: Pick<Repositories, 'budgets'>, row: KeyRow) {
  return row.budgetId ? repos.budgets.get(row.budgetId) : null
}

const userInvalidation = (user: { userId: string } | null): Invalidation[] => (user ? [{ kind: 'users', id: user.userId }] : [])

/** A `/key/generate` request checked and resolved to its columns, before anything is written. */
export type PreparedKey = {
  body: GenerateKeyBody
  plaintext: string
  token: string
  columns: ReturnType<typeof keyColumns>
  metadata: Record<string, unknown>
}

/** The checks and defaults of `/key/generate` that need no database (also used by `/user/new`'s key). */
export function prepareGenerate(deps: KeyDeps, actor: ChangeActor, input: GenerateKeyBody, options: { serviceAccount?: boolean } = {}): PreparedKey {
  let body = withDefaultParams(deps.settings, input)
  if (options.serviceAccount) {
    if (!body.team_id) throw badRequest('team_id is required for service account keys', 'team_id')
    body = { ...body, user_id: null }
  }
  checkKeyFields(body)
  body = applyUpperBounds(deps.settings, body, { fill: true })
  const plaintext = body.key ?? newVirtualKey()
  if (!isVirtualKeyFormat(plaintext)) {
    throw badRequest(`Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${maskLast4(plaintext)}`, 'key')
  }
  const columns = keyColumns(body, new Date(deps.clock.now()))
  const metadata = composeMetadata({}, body.metadata, metadataOverlay(deps, actor, body)) ?? {}
  checkTempBudget(columns.tempBudgetIncrease ?? null, columns.tempBudgetExpiry ?? null)
  return { body, plaintext, token: sha256Hex(plaintext), columns, metadata }
}

/** Writes a prepared key inside `tx`: owner checks, alias uniqueness, the row and its audit row. */
export async function insertPreparedKey(tx: Repositories, deps: KeyDeps, actor: ChangeActor, prepared: PreparedKey) {
  const { body, token, columns, metadata } = prepared
  const now = new Date(deps.clock.now())
  const by = actor.principal.userId
  const owners = await ownersForGenerate(tx, deps, actor, body)
  if (columns.keyAlias) await ensureAliasFree(tx, columns.keyAlias, null)
  if (body.key && ((await tx.keys.get(token)) || (await tx.keyRotations.get(token)))) {
    throw badRequest('A key with this value already exists. Please use a different key.', 'key')
  }
  await checkGuaranteedThroughput(tx, owners.team, { token, tpmLimit: columns.tpmLimit ?? null, rpmLimit: columns.rpmLimit ?? null, metadata })
  const row = await tx.keys.insert({
    ...columns,
    token,
    keyName: keyNameOf(prepared.plaintext),
    organizationId: owners.organizationId,
    models: columns.models ?? [],
    aliases: columns.aliases ?? {},
    metadata,
    allowedRoutes: columns.allowedRoutes ?? [],
    modelMaxBudget: columns.modelMaxBudget ?? {},
    modelSpend: {},
    budgetResetAt: windowEnd(columns.budgetDuration, now),
    createdBy: by,
    updatedBy: by,
  })
  await recordChange(tx, actor, { action: 'created', tableName: 'keys', objectId: token, after: row })
  // A lookup of this hash may have been cached as "unknown" before the key existed.
  const invalidations: Invalidation[] = [{ kind: 'keys', id: token }, ...userInvalidation(owners.createdUser)]
  return { row, budget: await budgetOf(tx, row), invalidations }
}

/** The response of a key just generated: the key object with its plaintext, shown this once. */
export function generatedKeyResponse(prepared: PreparedKey, row: KeyRow, budget: BudgetRow | null) {
  return { ...keyResponse(row, budget, { withToken: true }), key: prepared.plaintext, duration: prepared.body.duration ?? null }
}

export async function generateKey(deps: KeyDeps, actor: ChangeActor, input: GenerateKeyBody, options: { serviceAccount?: boolean } = {}) {
  const body = defaultKeyOwner(actor.principal, input, options)
  const prepared = prepareGenerate(deps, actor, body, options)
  const route = options.serviceAccount ? '/key/service-account/generate' : '/key/generate'
  const asked = options.serviceAccount ? { ...body, user_id: null } : body
  const { row, budget, invalidations } = await mappingAliasRace(deps, prepared.columns.keyAlias, () =>
    deps.repos.transaction(async (tx) => {
      await authorizeGenerate(tx, deps.settings, actor.principal, asked, route)
      return insertPreparedKey(tx, deps, actor, prepared)
    }),
  )
  await deps.invalidator.publish(...invalidations)
  return generatedKeyResponse(prepared, row, budget)
}

/** The checks `/key/update` applies before touching the database (also used by regenerate and bulk update). */
export function prepareKeyUpdate<T extends KeyFields>(deps: KeyDeps, body: T): T {
  checkKeyFields(body)
  return applyUpperBounds(deps.settings, body, { fill: false })
}

/**
 * Applies update fields to a key inside `tx`: owner checks, alias uniqueness, metadata, a fresh window when
 * `budget_duration` changes, and the audit row.
 */
export async function applyKeyUpdate(tx: Repositories, deps: KeyDeps, actor: ChangeActor, current: KeyRow, fields: KeyFields) {
  const now = new Date(deps.clock.now())
  const owners = await ownersForUpdate(tx, deps, actor, current, fields)
  const columns = keyColumns(fields, now)
  if (owners.organizationId !== undefined) columns.organizationId = owners.organizationId
  if (columns.keyAlias && columns.keyAlias !== current.keyAlias) await ensureAliasFree(tx, columns.keyAlias, current.token)
  const metadata = composeMetadata(current.metadata, fields.metadata, metadataOverlay(deps, actor, fields))
  if (metadata) columns.metadata = metadata
  if (columns.budgetDuration !== undefined && columns.budgetDuration !== current.budgetDuration) {
    columns.spend ??= 0
    columns.budgetResetAt = windowEnd(columns.budgetDuration, now)
  }
  const merged = { ...current, ...columns } as KeyRow
  checkTempBudget(merged.tempBudgetIncrease, merged.tempBudgetExpiry)
  await checkGuaranteedThroughput(tx, owners.team, merged)
  const row = (await tx.keys.update(current.token, { ...columns, updatedBy: actor.principal.userId }))!
  await recordChange(tx, actor, { action: 'updated', tableName: 'keys', objectId: current.token, before: current, after: row })
  return { row, createdUser: owners.createdUser }
}

export async function updateKey(deps: KeyDeps, actor: ChangeActor, body: UpdateKeyBody) {
  const token = tokenOf(body.key)
  if (!token) throw keyNotFound()
  const { key: _passed, ...fields } = prepareKeyUpdate(deps, body)
  const { row, budget, invalidations } = await mappingAliasRace(deps, fields.key_alias, () =>
    deps.repos.transaction(async (tx) => {
      const current = await tx.keys.get(token)
      if (!current) throw keyNotFound()
      const right = keyWriteRight(actor.principal, current, await teamOf(tx, current), '/key/update', 'You are not authorized to update this key')
      if (!right) throw keyNotFound()
      await authorizeUpdate(tx, actor.principal, right, current, fields, body.key)
      const { row, createdUser } = await applyKeyUpdate(tx, deps, actor, current, fields)
      const invalidations = [...(await keyInvalidations(tx, token)), ...userInvalidation(createdUser)]
      return { row, budget: await budgetOf(tx, row), invalidations }
    }),
  )
  await deps.invalidator.publish(...invalidations)
  return { key: body.key, ...keyResponse(row, budget, { withToken: false }) }
}

export async function bulkUpdateKeys(deps: KeyDeps, actor: ChangeActor, items: UpdateKeyBody[]) {
  if (items.length > 500) throw badRequest(`Maximum 500 keys can be updated at once. Found ${items.length} keys.`, 'keys')
  const successful: { key: string; key_info: unknown }[] = []
  const failed: { key: string; key_info: UpdateKeyBody; failed_reason: string }[] = []
  // Each key is its own transaction: one refusal does not undo the others (LiteLLM's bulk semantics).
  for (const item of items) {
    try {
      const { key, ...info } = await updateKey(deps, actor, item)
      successful.push({ key, key_info: info })
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      failed.push({ key: item.key, key_info: item, failed_reason: error.message })
    }
  }
  return { total_requested: items.length, successful_updates: successful, failed_updates: failed }
}

export async function deleteKeys(deps: KeyDeps, actor: ChangeActor, body: { keys?: string[] | null; key_aliases?: string[] | null }) {
  const keys = body.keys ?? []
  const aliases = body.key_aliases ?? []
  if (keys.length === 0 && aliases.length === 0) throw badRequest("At least one of 'keys' or 'key_aliases' must be provided.")
  const invalidations = await deps.repos.transaction(async (tx) => {
    const rows = new Map<string, KeyRow>()
    const deletable = async (row: KeyRow | null, param: string) => {
      if (!row || !keyWriteRight(actor.principal, row, await teamOf(tx, row), '/key/delete', 'You are not authorized to delete this key')) {
        throw notFound('No keys found', param)
      }
      rows.set(row.token, row)
    }
    for (const value of keys) {
      const token = tokenOf(value)
      await deletable(token ? await tx.keys.get(token) : null, 'keys')
    }
    for (const alias of aliases) await deletable(await tx.keys.getByAlias(alias), 'key_aliases')
    return deleteKeyRows(tx, actor, [...rows.values()], new Date(deps.clock.now()))
  })
  await deps.invalidator.publish(...invalidations)
  return { deleted_keys: [...keys, ...aliases] }
}

export async function setKeyBlocked(deps: KeyDeps, actor: ChangeActor, value: string, blocked: boolean) {
  const token = tokenOf(value)
  if (!token) throw badRequest('Invalid key format.', 'key')
  const { row, budget, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = await tx.keys.get(token)
    if (!before) throw keyNotFound()
    const row = (await tx.keys.update(token, { blocked, updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action: blocked ? 'blocked' : 'unblocked', tableName: 'keys', objectId: token, before, after: row })
    return { row, budget: await budgetOf(tx, row), invalidations: await keyInvalidations(tx, token) }
  })
  await deps.invalidator.publish(...invalidations)
  return keyResponse(row, budget, { withToken: true })
}

/** Writes spend: what this instance has not flushed yet is written first, and the budget counters follow. */
export async function resetKeySpend(deps: KeyDeps & Pick<AppContext, 'budgets' | 'spend'>, actor: ChangeActor, value: string, resetTo: unknown) {
  if (typeof resetTo !== 'number' || !Number.isFinite(resetTo)) throw badRequest('reset_to must be a float', 'reset_to')
  if (resetTo < 0) throw badRequest(`reset_to must be >= 0. Received: ${pythonFloat(resetTo)}`, 'reset_to')
  const token = tokenOf(value)
  if (!token) throw keyNotFound()
  await deps.spend.flush()
  const { before, row, invalidations } = await deps.repos.transaction(async (tx) => {
    const before = await tx.keys.get(token)
    if (!before) throw keyNotFound()
    const denied = 'You must be a proxy admin or team admin to reset key spend'
    const right = keyWriteRight(actor.principal, before, await teamOf(tx, before), '/key/{key}/reset_spend', denied)
    if (!right) throw keyNotFound()
    if (!mayResetKeySpend(right)) throw forbidden(denied)
    if (resetTo > before.spend) {
      throw badRequest(`reset_to (${pythonFloat(resetTo)}) must be <= current spend (${pythonFloat(before.spend)})`, 'reset_to')
    }
    if (before.maxBudget !== null && resetTo > before.maxBudget) {
      throw badRequest(`reset_to (${pythonFloat(resetTo)}) must be <= max_budget (${pythonFloat(before.maxBudget)})`, 'reset_to')
    }
    const row = (await tx.keys.update(token, { spend: resetTo, updatedBy: actor.principal.userId }))!
    await recordChange(tx, actor, { action: 'updated', tableName: 'keys', objectId: token, before, after: row })
    return { before, row, invalidations: await keyInvalidations(tx, token) }
  })
  await deps.budgets.spendOverwritten({ kind: 'key', id: token })
  await deps.invalidator.publish(...invalidations)
  return {
    key_hash: token,
    spend: row.spend,
    previous_spend: before.spend,
    max_budget: row.maxBudget,
    budget_reset_at: formatTimestamp(row.budgetResetAt),
  }
}

/** The team of a key, for the checks that depend on it (its admins, its members' permissions). */
export function teamOf(repos: Pick<Repositories, 'teams'>, key: KeyRow) {
  return key.teamId ? repos.teams.get(key.teamId) : Promise.resolve(null)
}

/** What key reads need besides the key deps: spend is shown for the current window (§6.7). */
type KeyReadDeps = KeyDeps & Pick<AppContext, 'budgets'>

/**
 * `/key/info` (default: the caller's own key). A key the caller may not read answers as a missing one (§4); a
 * credential without a user can only ever read itself, and is told so without any lookup.
 */
export async function keyInfo(deps: KeyReadDeps, principal: Principal, passed: string | undefined) {
  const value = passed ?? principal.keyHash
  if (!value) throw keyNotFound()
  const token = tokenOf(value)
  if (!isAdminRole(principal) && !principal.userId && token !== principal.keyHash) {
    throw forbidden(`You are not allowed to access this key's info. Your role=${principal.role}`)
  }
  const found = token ? await deps.repos.keys.get(token) : null
  if (!found || !canReadKey(principal, found, await teamOf(deps.repos, found))) throw keyNotFound()
  const [row] = await deps.budgets.current.keys([found])
  return { key: value, info: keyResponse(row, await budgetOf(deps.repos, row), { withToken: false }) }
}

/** `/v2/key/info`: the keys asked for that the caller may read (others are left out, as missing ones are). */
export async function keysInfo(deps: KeyReadDeps, principal: Principal, keys: string[]) {
  if (keys.length === 0) throw unprocessable('Malformed request. No keys passed in.', 'keys')
  const tokens = keys.map(tokenOf).filter((token): token is string => token !== null)
  const found = await deps.repos.keys.getMany(tokens)
  const readable: KeyRow[] = []
  for (const row of found) if (canReadKey(principal, row, await teamOf(deps.repos, row))) readable.push(row)
  const rows = await deps.budgets.current.keys(readable)
  const budgets = await keyBudgets(deps.repos, rows)
  return { key: keys, info: rows.map((row) => keyResponse(row, budgets.get(row.budgetId ?? '') ?? null, { withToken: false })) }
}

export async function listKeys(deps: KeyReadDeps, principal: Principal, query: KeyListQuery) {
  const asksForOthers = query.user_id !== undefined && query.user_id !== principal.userId
  if (!isAdminRole(principal) && !principal.userId && (asksForOthers || query.team_id !== undefined || query.organization_id !== undefined)) {
    throw forbidden("You are not authorized to access this endpoint. No 'user_id' is associated with your API key.")
  }
  const filter = {
    visibleTo: await visibleKeys(deps.repos, principal),
    userId: query.user_id,
    teamId: query.team_id,
    organizationId: query.organization_id,
    keyAlias: query.key_alias,
    tokens: query.key_hash === undefined ? undefined : [tokenOf(query.key_hash) ?? query.key_hash],
  }
  const sort: { by: KeySortColumn; order: SortOrder } = { by: query.sort_by ?? 'created_at', order: query.sort_order }
  const { rows, total } = await deps.repos.keys.list(filter, { offset: (query.page - 1) * query.size, limit: query.size }, sort)
  let keys: unknown[] = rows.map((row) => row.token)
  if (query.return_full_object) {
    const budgets = await keyBudgets(deps.repos, rows)
    keys = (await deps.budgets.current.keys(rows)).map((row) => keyResponse(row, budgets.get(row.budgetId ?? '') ?? null, { withToken: true }))
  }
  return { keys, total_count: total, current_page: query.page, total_pages: totalPages(total, query.size) }
}

export async function listKeyAliases(deps: KeyDeps, query: { page: number; size: number; search?: string }) {
  const { rows, total } = await deps.repos.keys.listAliases(query.search || undefined, { offset: (query.page - 1) * query.size, limit: query.size })
  return { aliases: rows, total_count: total, current_page: query.page, total_pages: totalPages(total, query.size), size: query.size }
}

export function keyHealth() {
  return { key: 'healthy', logging_callbacks: null }
}
