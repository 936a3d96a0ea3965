import { randomBytes, randomUUID } from 'node:crypto'

export function newId(): string {
  return randomUUID()
}

/** A UUIDv7: ordered by creation time (monotonic within a process), for rows listed newest first. */
export function newOrderedId(): string {
  return Bun.randomUUIDv7()
}

/** A virtual key: `sk-` + base64url(16 random bytes), 22 characters after the prefix. */
export function newVirtualKey(): string {
  return `sk-${randomBytes(16).toString('base64url')}`
}

/** The generated admin key of a gateway started without a master key: `sk-` + base64url(32 random bytes). */
export function newAdminKey(): string {
  return `sk-${randomBytes(32).toString('base64url')}`
}

const CLIENT_ID_FORBIDDEN = /[\u0000-\u001f\u007f]/

/** Client-supplied ids: 1–256 characters, no control characters, no surrounding whitespace. */
export function clientIdProblem(id: string): string | null {
  if (id.length < 1 || id.length > 256) return 'must be 1 to 256 characters'
  if (CLIENT_ID_FORBIDDEN.test(id)) return 'must not contain control characters'
  if (id.trim() !== id) return 'must not start or end with whitespace'
  return null
}
