/**
 * What several key endpoints (and team deletion) do with key rows: resolve what a caller passed, find the
 * cache entries a change must evict, delete and archive, and load the budget tiers key objects show.
 */
import { recordChange, type ChangeActor } from '../../audit/record'
import type { Invalidation } from '../../cache/invalidation'
import type { BudgetRow, KeyRow, Repositories } from '../../db/ports'
import { isKeyHash, maskKey, sha256Hex } from '../../lib/secrets'
import { budgetsById } from '../shared/lookups'

/** A key as callers pass it, the plaintext (`sk-…`, hashed here) or its 64-hex hash; null for anything else. */
export function tokenOf(value: string): string | null {
  if (isKeyHash(value)) return value
  if (value.startsWith('sk-')) return sha256Hex(value)
  return null
}

/** How a key is named in messages: never the plaintext. */
export function keyLabel(value: string): string {
  return isKeyHash(value) ? value : maskKey(value)
}

/** `sk-...wxyz` for a key's `key_name`. */
export function keyNameOf(plaintext: string): string {
  return maskKey(plaintext)
}

/** The cache entries of a key: its hash and every rotated-out hash that still resolves to it. */
export async function keyInvalidations(tx: Repositories, token: string): Promise<Invalidation[]> {
  const rotated = await tx.keyRotations.listByToken(token)
  return [token, ...rotated.map((rotation) => rotation.oldToken)].map((id) => ({ kind: 'keys' as const, id }))
}

/** Deletes keys (and their rotation records), archives them and audits each; returns the evictions to publish. */
export async function deleteKeyRows(tx: Repositories, actor: ChangeActor, rows: readonly KeyRow[], now: Date): Promise<Invalidation[]> {
  const invalidations: Invalidation[] = []
  for (const row of rows) {
    invalidations.push(...(await keyInvalidations(tx, row.token)))
    await tx.keyRotations.deleteByToken(row.token)
    await tx.keys.delete(row.token)
    await recordChange(tx, actor, { action: 'deleted', tableName: 'keys', objectId: row.token, before: row })
  }
  await tx.archive.archiveKeys(rows, { deletedAt: now, deletedBy: actor.changedBy ?? actor.principal.userId })
  return invalidations
}

/** The budget tiers the keys point at, by id. */
export function keyBudgets(repos: Pick<Repositories, 'budgets'>, rows: readonly KeyRow[]): Promise<Map<string, BudgetRow>> {
  return budgetsById(repos, rows.map((row) => row.budgetId))
}
