/**
 * Semantic checks shared by the management modules. Shape errors are the schema's (422); these are the
 * contract's 400s, each naming its field.
 */
import { badRequest } from '../../http/errors'
import { durationMessage, isDuration } from '../../lib/duration'

/** A `budget_duration`-style field: null clears it, anything but the strict grammar is a 400. */
export function checkDuration(field: string, value: string | null | undefined): void {
  if (value === undefined || value === null) return
  if (!isDuration(value)) throw badRequest(durationMessage(field, value), field)
}

/** A money field: finite and not negative. */
export function checkMoney(field: string, value: number | null | undefined, message?: (value: number) => string): void {
  if (value === undefined || value === null) return
  if (!Number.isFinite(value) || value < 0) {
    throw badRequest(message ? message(value) : `${field} must be a non-negative finite number. Received: ${value}`, field)
  }
}

/** Removes keys whose value is undefined, so a patch contains only what the client sent. */
export function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
