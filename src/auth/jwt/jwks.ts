/**
 * Public keys for JWT verification, fetched from the JWKS URLs in JWT_PUBLIC_KEY_URL (comma-separated).
 * Cached for `public_key_ttl`; a token whose `kid` is unknown triggers a refetch at most every 30 s; each
 * fetch gives up after 5 s. `jku`/`x5u` in a token are never followed: keys come only from configured URLs.
 */
import { importJWK, type CryptoKey, type JWK } from 'jose'
import type { Clock } from '../../lib/clock'

export type JwksSourceOptions = {
  urls: readonly string[]
  clock: Clock
  ttlMs: number
  refetchIntervalMs?: number
  fetchTimeoutMs?: number
}

export class JwksError extends Error {}

export class JwksSource {
  private keys: JWK[] = []
  private fetchedAt = Number.NEGATIVE_INFINITY
  private refreshing: Promise<void> | null = null
  private readonly imported = new Map<string, Promise<CryptoKey | Uint8Array>>()

  constructor(private readonly options: JwksSourceOptions) {}

  /** The verification key for a token header; refreshes the set when it is stale or the kid is new. */
  async keyFor(header: { kid?: string; alg?: string }): Promise<CryptoKey | Uint8Array> {
    const now = this.options.clock.now()
    if (now - this.fetchedAt >= this.options.ttlMs) await this.refresh()
    let jwk = this.find(header)
    if (!jwk && header.kid && this.options.clock.now() - this.fetchedAt >= (this.options.refetchIntervalMs ?? 30_000)) {
      await this.refresh()
      jwk = this.find(header)
    }
    if (!jwk) throw new JwksError(header.kid ? `no key with kid '${header.kid}' in the JWKS` : 'the token names no kid and the JWKS has several keys')
    if (jwk.alg && header.alg && jwk.alg !== header.alg) throw new JwksError(`key '${jwk.kid ?? ''}' is for ${jwk.alg}, token uses ${header.alg}`)
    const cacheId = `${jwk.kid ?? ''}\u0000${header.alg ?? ''}\u0000${jwk.n ?? jwk.x ?? ''}`
    let key = this.imported.get(cacheId)
    if (!key) {
      key = importJWK(jwk, header.alg)
      this.imported.set(cacheId, key)
      key.catch(() => this.imported.delete(cacheId))
    }
    return key
  }

  private find(header: { kid?: string }): JWK | undefined {
    if (header.kid) return this.keys.find((key) => key.kid === header.kid)
    return this.keys.length === 1 ? this.keys[0] : undefined
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.fetchAll().finally(() => (this.refreshing = null))
    return this.refreshing
  }

  private async fetchAll(): Promise<void> {
    const sets = await Promise.all(this.options.urls.map((url) => this.fetchOne(url)))
    this.keys = sets.flat()
    this.fetchedAt = this.options.clock.now()
    this.imported.clear()
  }

  private async fetchOne(url: string): Promise<JWK[]> {
    let response: Response
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5_000) })
    } catch (error) {
      throw new JwksError(`could not fetch the JWKS: ${(error as Error).message}`)
    }
    if (!response.ok) throw new JwksError(`the JWKS URL answered ${response.status}`)
    const body = (await response.json().catch(() => null)) as { keys?: unknown } | null
    if (!body || !Array.isArray(body.keys)) throw new JwksError('the JWKS URL did not return a key set')
    return body.keys.filter((key): key is JWK => typeof key === 'object' && key !== null && typeof (key as JWK).kty === 'string')
  }
}
