/**
 * Verifies a JWT with `jose`: the signature always, against keys from the configured JWKS only; algorithms
 * pinned to asymmetric ones (never `none`, never HMAC); `exp` required; `nbf` honoured; 30 s clock tolerance;
 * `aud` / `iss` checked when JWT_AUDIENCE / JWT_ISSUER are set. Verified tokens are remembered by the sha256
 * of the whole token until they expire.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose'
import { unauthorized } from '../../http/errors'
import type { Clock } from '../../lib/clock'
import { sha256Hex } from '../../lib/secrets'
import { JwksError, type JwksSource } from './jwks'

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']

export type JwtVerifierOptions = {
  keys: Pick<JwksSource, 'keyFor'>
  clock: Clock
  audience: string | null
  issuer: string | null
  /** Verified tokens kept in memory at most (oldest dropped first). */
  maxCachedTokens?: number
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed'
  if (error instanceof errors.JWTClaimValidationFailed) return `claim '${error.claim}' ${error.reason === 'missing' ? 'missing' : 'check failed'}`
  if (error instanceof JwksError) return error.message
  if (error instanceof errors.JOSEError) return 'malformed token'
  return 'verification failed'
}

export type JwtVerifier = { verify(token: string): Promise<JWTPayload> }

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const verified = new Map<string, JWTPayload>()
  const max = options.maxCachedTokens ?? 10_000
  return {
    async verify(token) {
      const id = sha256Hex(token)
      const known = verified.get(id)
      const nowSeconds = options.clock.now() / 1000
      if (known && typeof known.exp === 'number' && known.exp > nowSeconds) return known
      if (known) verified.delete(id)
      try {
        const { payload } = await jwtVerify(token, (header) => options.keys.keyFor(header), {
          algorithms: JWT_ALGORITHMS,
          requiredClaims: ['exp'],
          clockTolerance: 30,
          currentDate: new Date(options.clock.now()),
          ...(options.audience ? { audience: options.audience } : {}),
          ...(options.issuer ? { issuer: options.issuer } : {}),
        })
        verified.set(id, payload)
        if (verified.size > max) verified.delete(verified.keys().next().value!)
        return payload
      } catch (error) {
        throw unauthorized(`Authentication Error - invalid JWT: ${reasonOf(error)}`)
      }
    },
  }
}

/** A claim by dot path (`realm_access.team`), as `*_jwt_field` settings name them. */
export function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}
