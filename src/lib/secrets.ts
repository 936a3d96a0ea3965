import { timingSafeEqual } from 'node:crypto'

// Bun's one-shot SHA-256 is several times cheaper than node:crypto's createHash; it runs on every request.
export function sha256Hex(value: string): string {
  return Bun.SHA256.hash(value, 'hex')
}

function sha256Bytes(value: string): Uint8Array {
  return Bun.SHA256.hash(value) as Uint8Array
}

/** Compares two secrets in constant time over their sha256 digests (equal length by construction). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(sha256Bytes(given), sha256Bytes(expected))
}

/** Compares a secret against a stored sha256 hex digest in constant time. */
export function secretMatchesHash(given: string, expectedHex: string): boolean {
  return secretMatchesDigest(given, Buffer.from(expectedHex, 'hex'))
}

/** Compares a secret against a sha256 digest (bytes, computed once by the caller) in constant time. */
export function secretMatchesDigest(given: string, expected: Uint8Array): boolean {
  const digest = sha256Bytes(given)
  return expected.length === digest.length && timingSafeEqual(digest, expected)
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
