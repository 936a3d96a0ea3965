/**
 * Field-level checks (§4, mass assignment): fields only proxy admins may set, and ceilings that a non-admin's
 * limits may not exceed. Every refusal is a 403 `auth_error` whose message names the field; services run these
 * before writing anything, inside the change's transaction, so a refusal leaves no row and no audit row.
 */
import { forbidden } from '../http/errors'
import { pythonFloat, pythonList } from '../lib/python-float'

export const fieldRefused = (field: string, why = 'only proxy admins may set it') => forbidden(`Not allowed to set ${field}: ${why}.`)

/**
 * Refuses each of `fields` the body sets to something other than what it would be anyway (`current`: the value
 * the object has, or gets by default). Sending the unchanged value (`blocked: false`) is harmless and accepted.
 */
export function refuseChangedFields(
  body: Readonly<Record<string, unknown>>,
  fields: readonly string[],
  current: Readonly<Record<string, unknown>> = {},
  why?: string,
): void {
  for (const field of fields) {
    const value = body[field]
    if (value === undefined) continue
    if (JSON.stringify(value) === JSON.stringify(current[field] ?? null)) continue
    throw fieldRefused(field, why)
  }
}

/** `max_budget: null` (or any limit cleared) removes a cap: only proxy admins may do that. */
export function refuseRemovedCap(field: string, value: unknown, current: number | null | undefined): void {
  if (value === null && current !== null && current !== undefined) throw fieldRefused(`${field}=None`, 'removing a cap is for proxy admins only')
}

const shown = (value: number) => (Number.isInteger(value) ? String(value) : pythonFloat(value))

/** A limit at most its owner's (`owner` names it: `team=t1`, `user=u1`); no ceiling or no value: nothing to check. */
export function checkCeiling(field: string, value: number | null | undefined, ceiling: number | null | undefined, owner: string, ceilingField = field): void {
  if (value === null || value === undefined || ceiling === null || ceiling === undefined) return
  if (value > ceiling) {
    throw forbidden(`${field}=${shown(value)} is above the ceiling of ${owner}: ${ceilingField}=${shown(ceiling)}. Limits may not exceed their owner's.`)
  }
}

/** Lists that allow every model: empty, `*`, `all-proxy-models`. */
function unrestricted(list: readonly string[]): boolean {
  return list.length === 0 || list.includes('*') || list.includes('all-proxy-models')
}

function entryCovers(entry: string, model: string): boolean {
  if (entry === model) return true
  if (!entry.includes('*')) return false
  const pattern = new RegExp(`^${entry.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return pattern.test(model)
}

/** Models (of a key or a team) must be ones the owner may call (`owner`'s list; empty = anything). */
export function checkModelsWithin(field: string, models: readonly string[] | null | undefined, allowed: readonly string[], owner: string, passThrough: readonly string[] = []): void {
  if (!models || unrestricted(allowed)) return
  const outside = models.filter((model) => !passThrough.includes(model) && !allowed.some((entry) => entryCovers(entry, model)))
  if (outside.length > 0) {
    throw forbidden(`${field}=${pythonList(outside)} outside what ${owner} may call: ${pythonList(allowed)}.`)
  }
}
