import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SignJWT, UnsecuredJWT } from 'jose'
import { createSigningKey, startJwksServer, type JwksServer } from '../../../test/jwks-server'
import { ApiError } from '../../http/errors'
import { ManualClock, systemClock } from '../../lib/clock'
import { JwksSource } from './jwks'
import { claimAt, createJwtVerifier } from './verify'

describe('JWT verification', () => {
  let idp: JwksServer
  beforeAll(async () => {
    idp = await startJwksServer([await createSigningKey('rsa-1', 'RS256'), await createSigningKey('ec-1', 'ES256')])
  })
  afterAll(() => idp.stop())

  const verifier = (options: { audience?: string; issuer?: string } = {}) =>
    createJwtVerifier({
      keys: new JwksSource({ urls: [idp.url], clock: systemClock, ttlMs: 600_000 }),
      clock: systemClock,
      audience: options.audience ?? null,
      issuer: options.issuer ?? null,
    })
  const reasonOf = async (promise: Promise<unknown>) => {
    const error: any = await promise.catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.httpStatus).toBe(401)
    expect(error.errorType).toBe('auth_error')
    return error.message as string
  }

  test('a token signed by a JWKS key verifies (RSA and EC), and is remembered', async () => {
    const v = verifier()
    const fetchesBefore = idp.fetches
    expect((await v.verify(await idp.sign({ team_id: 't1' }))).team_id).toBe('t1')
    const ec = await idp.sign({ sub: 'u' }, { key: idp.keys[1] })
    expect((await v.verify(ec)).sub).toBe('u')
    expect((await v.verify(ec)).sub).toBe('u')
    expect(idp.fetches - fetchesBefore).toBe(1)
  })

  test('expired, forged, alg none, HMAC, missing exp, wrong audience and issuer are refused with 401', async () => {
    const v = verifier({ audience: 'tollgate', issuer: 'https://idp.example' })
    const good = { aud: 'tollgate', iss: 'https://idp.example' }
    expect(await v.verify(await idp.sign(good))).toMatchObject(good)
    expect(await reasonOf(v.verify(await idp.sign(good, { expiresInSeconds: -120 })))).toBe('Authentication Error - invalid JWT: token expired')
    const stranger = await createSigningKey('rsa-1')
    expect(await reasonOf(v.verify(await idp.sign(good, { key: stranger })))).toBe(
      'Authentication Error - invalid JWT: signature verification failed',
    )
    const none = new UnsecuredJWT({ ...good, exp: Math.floor(Date.now() / 1000) + 60 }).encode()
    expect(await reasonOf(v.verify(none))).toBe('Authentication Error - invalid JWT: algorithm not allowed')
    const hmac = await new SignJWT(good).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setExpirationTime('1h').sign(new Uint8Array(32))
    expect(await reasonOf(v.verify(hmac))).toBe('Authentication Error - invalid JWT: algorithm not allowed')
    expect(await reasonOf(v.verify(await idp.sign(good, { expiresInSeconds: null })))).toBe("Authentication Error - invalid JWT: claim 'exp' missing")
    expect(await reasonOf(v.verify(await idp.sign({ ...good, aud: 'other' })))).toBe("Authentication Error - invalid JWT: claim 'aud' check failed")
    expect(await reasonOf(v.verify(await idp.sign({ ...good, iss: 'https://evil' })))).toBe("Authentication Error - invalid JWT: claim 'iss' check failed")
    expect(await reasonOf(v.verify('not.a.jwt'))).toBe('Authentication Error - invalid JWT: malformed token')
  })

  test('an unknown kid refetches the set, at most every 30 s', async () => {
    const clock = new ManualClock(Date.now())
    const v = createJwtVerifier({ keys: new JwksSource({ urls: [idp.url], clock, ttlMs: 600_000 }), clock, audience: null, issuer: null })
    await v.verify(await idp.sign({ a: 1 }))
    const rotated = await createSigningKey('rsa-2')
    idp.keys = [...idp.keys, rotated]
    const fetches = idp.fetches
    const token = await idp.sign({ a: 2 }, { key: rotated })
    expect(await reasonOf(v.verify(token))).toBe("Authentication Error - invalid JWT: no key with kid 'rsa-2' in the JWKS")
    expect(idp.fetches).toBe(fetches)
    clock.advance(30_000)
    expect((await v.verify(token)).a).toBe(2)
    expect(idp.fetches).toBe(fetches + 1)
  })

  test('claims by dot path', () => {
    expect(claimAt({ realm: { team: 'x' } }, 'realm.team')).toBe('x')
    expect(claimAt({ realm: 'x' }, 'realm.team')).toBeUndefined()
  })
})
