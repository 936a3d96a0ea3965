/**
 * A local identity provider for tests: serves a JWKS over HTTP and signs tokens with its keys.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'

export type TestSigningKey = { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK }

export async function createSigningKey(kid: string, alg = 'RS256'): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export type JwksServer = {
  readonly url: string
  /** The keys served; change it to rotate. */
  keys: TestSigningKey[]
  fetches: number
  sign(claims: JWTPayload, options?: { key?: TestSigningKey; expiresInSeconds?: number | null; kid?: string | null }): Promise<string>
  stop(): Promise<void>
}

export async function startJwksServer(initial?: TestSigningKey[]): Promise<JwksServer> {
  const state = { keys: initial ?? [await createSigningKey('key-1')], fetches: 0 }
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => {
      state.fetches++
      return Response.json({ keys: state.keys.map((key) => key.publicJwk) })
    },
  })
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.port}/jwks.json`,
    async sign(claims: JWTPayload, options: { key?: TestSigningKey; expiresInSeconds?: number | null; kid?: string | null } = {}) {
      const key = options.key ?? state.keys[0]
      const kid = options.kid === undefined ? key.kid : options.kid
      let jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, ...(kid ? { kid } : {}) }).setIssuedAt()
      if (options.expiresInSeconds !== null) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 3600))
      return jwt.sign(key.privateKey)
    },
    async stop() {
      await server.stop(true)
    },
  })
}
