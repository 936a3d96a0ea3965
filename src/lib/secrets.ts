import { createHash, timingSafeEqual } from 'node:crypto'

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** Compares two secrets in constant time over their sha256 digests (equal length by construction). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** Compares a secret against a stored sha256 hex digest in constant time. */
export function secretMatchesHash(given: string, expectedHex: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = Buffer.from(expectedHex, 'hex')
  return b.length === a.length && timingSafeEqual(a, b)
}

const VIRTUAL_KEY_PATTERN = /^sk-[A-Za-z0-9_\-.]{1,252}$/
const KEY_HASH_PATTERN = /^[0-9a-f]{64}$/

export function isVirtualKeyFormat(value: string): boolean {
  return VIRTUAL_KEY_PATTERN.test(value)
}

export function isKeyHash(value: string): boolean {
  return KEY_HASH_PATTERN.test(value)
}

/** `sk-...wxyz`: the only form of a key (besides its hash) that ever leaves memory. */
export function maskKey(key: string): string {
  return `sk-...${key.slice(-4)}`
}

/** `****wxyz`, as LiteLLM's messages show a credential that is not a virtual key. */
export function maskLast4(value: string): string {
  return `****${value.slice(-4)}`
}
