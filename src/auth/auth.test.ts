import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { describeEachEngine } from '../../test/engines'
import { MASTER_KEY, startGateway, type TestGateway } from '../../test/gateway'
import { openTestStore } from '../../test/database'
import { sqliteEngine } from '../../test/engines'
import { createAppContext } from '../app-context'
import { createApp } from '../app'
import { settingsFromObject } from '../config/load'
import type { KeyRow } from '../db/ports'
import type { ManualClock } from '../lib/clock'
import { silentLogger } from '../lib/logger'
import { sha256Hex } from '../lib/secrets'
import { readCredential } from './credentials'

const ADMIN_USER_KEY = 'sk-admin-user-key-000000000001'
const PLAIN_KEY = 'sk-plain-user-key-000000000002'

function keyRow(plaintext: string, overrides: Partial<KeyRow> = {}) {
  return { token: sha256Hex(plaintext), keyName: `sk-...${plaintext.slice(-4)}`, models: [], aliases: {}, metadata: {}, allowedRoutes: [], modelMaxBudget: {}, modelSpend: {}, ...overrides }
}

describe('where the credential is read from', () => {
  const read = (headers: Record<string, string>, custom: string | null = null) => readCredential(new Headers(headers), custom)
  test('the contract order and schemes', () => {
    expect(read({})).toEqual({ kind: 'none' })
    expect(read({ authorization: 'Bearer sk-a' })).toEqual({ kind: 'value', value: 'sk-a' })
    expect(read({ authorization: 'bearer sk-a' })).toEqual({ kind: 'value', value: 'sk-a' })
    expect(read({ authorization: 'Basic sk-a' })).toEqual({ kind: 'value', value: 'sk-a' })
    expect(read({ authorization: 'AWS4-HMAC-SHA256 Credential=Bearer sk-a, SignedHeaders=x' })).toEqual({ kind: 'value', value: 'sk-a' })
    expect(read({ authorization: 'Token sk-a' })).toEqual({ kind: 'malformed' })
    expect(read({ authorization: 'Bearer sk-a', 'x-litellm-api-key': 'sk-b' })).toEqual({ kind: 'value', value: 'sk-b' })
    expect(read({ 'x-api-key': 'sk-c' })).toEqual({ kind: 'value', value: 'sk-c' })
    expect(read({ 'api-key': 'sk-c' })).toEqual({ kind: 'value', value: 'sk-c' })
    expect(read({ 'ocp-apim-subscription-key': 'sk-c' })).toEqual({ kind: 'value', value: 'sk-c' })
    expect(read({ 'x-goog-api-key': 'sk-c' })).toEqual({ kind: 'value', value: 'sk-c' })
    expect(read({ 'my-key': 'Bearer sk-d', authorization: 'Bearer sk-a' }, 'my-key')).toEqual({ kind: 'value', value: 'sk-d' })
  })
})

describeEachEngine('authentication', (engine) => {
  let gateway: TestGateway
  beforeAll(async () => {
    gateway = await startGateway(engine)
    const { repos } = gateway.store
    await repos.users.insert({ userId: 'admin-user', userRole: 'proxy_admin', models: [], metadata: {} })
    await repos.users.insert({ userId: 'plain-user', userRole: 'internal_user', models: [], metadata: {} })
    await repos.teams.insert({ teamId: 'blocked-team', metadata: {}, models: [], teamMemberPermissions: [], blocked: true })
    await repos.keys.insert(keyRow(ADMIN_USER_KEY, { userId: 'admin-user' }))
    await repos.keys.insert(keyRow(PLAIN_KEY, { userId: 'plain-user' }))
    await repos.keys.insert(keyRow('sk-expired-key-0000000003', { expires: new Date(gateway.clock.now() - 1) }))
    await repos.keys.insert(keyRow('sk-blocked-key-0000000004', { blocked: true }))
    await repos.keys.insert(keyRow('sk-team-blocked-0000000005', { teamId: 'blocked-team' }))
  })
  afterAll(() => gateway.close())

  const errorOf = async (key: string | null, headers: Record<string, string> = {}) =>
    (await gateway.call('GET', '/budget/list', { key, headers })).body.error

  test('refusals carry the contract status, type and message', async () => {
    expect(await errorOf(null)).toEqual({ message: 'No api key passed in.', type: 'auth_error', param: null, code: 401 })
    expect(await errorOf(null, { authorization: 'Token abc' })).toMatchObject({
      code: 401,
      message: 'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.',
    })
    expect(await errorOf('abcdwxyz')).toMatchObject({
      code: 401,
      message: "LiteLLM Virtual Key expected. Received=****wxyz, expected to start with 'sk-'.",
    })
    const unknown = 'sk-unknown-key-00000009'
    expect(await errorOf(unknown)).toEqual({
      message: `Authentication Error, Invalid proxy server token passed. Received API Key = sk-...0009, Key Hash (Token) =${sha256Hex(unknown)}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
      type: 'token_not_found_in_db',
      param: null,
      code: 401,
    })
    expect(await errorOf('sk-expired-key-0000000003')).toMatchObject({ code: 401, type: 'expired_key' })
    expect((await errorOf('sk-expired-key-0000000003')).message).toStartWith('Authentication Error - Expired Key. Key Expiry time ')
    expect(await errorOf('sk-blocked-key-0000000004')).toMatchObject({ code: 401, message: "Key is blocked. Update via `/key/unblock` if you're an admin." })
    expect(await errorOf('sk-team-blocked-0000000005')).toMatchObject({
      code: 401,
      message: "Team=blocked-team is blocked. Update via `/team/unblock` if you're an admin.",
    })
  })

  test('a value outside the key format is refused without a database query', async () => {
    const before = gateway.store.database.stats.queries
    const error = await errorOf("sk-'; drop table keys; --")
    expect(error.type).toBe('token_not_found_in_db')
    expect(gateway.store.database.stats.queries).toBe(before)
  })

  test('roles come from the key owner; admin-only routes refuse others', async () => {
    expect((await gateway.call('GET', '/budget/list', { key: ADMIN_USER_KEY })).status).toBe(200)
    expect(await errorOf(PLAIN_KEY)).toEqual({ message: 'Admin-only endpoint. Not allowed to access this.', type: 'auth_error', param: null, code: 403 })
  })

  test('a warm key makes no database query', async () => {
    await gateway.call('GET', '/budget/settings?budget_id=x', { key: PLAIN_KEY })
    const before = gateway.store.database.stats.queries
    for (let i = 0; i < 20; i++) await gateway.call('GET', '/budget/settings?budget_id=x', { key: PLAIN_KEY })
    expect(gateway.store.database.stats.queries).toBe(before)
  })

  test('a change is visible at once after the cache is invalidated', async () => {
    await gateway.store.repos.keys.update(sha256Hex(PLAIN_KEY), { blocked: true })
    await gateway.context.invalidator.publish({ kind: 'keys', id: sha256Hex(PLAIN_KEY) })
    expect((await errorOf(PLAIN_KEY)).message).toBe("Key is blocked. Update via `/key/unblock` if you're an admin.")
  })

  test('a rotated-out key works until its revoke time, then is unknown', async () => {
    const old = 'sk-old-rotated-key-00000006'
    await gateway.store.repos.keyRotations.insert({
      oldToken: sha256Hex(old),
      token: sha256Hex(ADMIN_USER_KEY),
      revokeAt: new Date(gateway.clock.now() + 1000),
      createdAt: new Date(gateway.clock.now()),
    })
    expect((await gateway.call('GET', '/budget/list', { key: old })).status).toBe(200)
    ;(gateway.clock as ManualClock).advance(1000)
    expect((await errorOf(old)).type).toBe('token_not_found_in_db')
  })

  test('the master key is accepted from any supported header', async () => {
    for (const headers of [{ 'x-litellm-api-key': MASTER_KEY }, { 'x-api-key': MASTER_KEY }, { 'api-key': MASTER_KEY }] as Record<string, string>[]) {
      expect((await gateway.call('GET', '/budget/list', { key: null, headers })).status).toBe(200)
    }
  })
})

describe('without a master key, Tollgate generates an admin key instead of running open', () => {
  test('generated once, stored as a hash, announced once, and it works', async () => {
    const store = await openTestStore(sqliteEngine)
    const announced: string[] = []
    const build = () =>
      createAppContext({ settings: settingsFromObject({}), database: store.database, clock: store.clock, log: silentLogger, announceAdminKey: (k) => announced.push(k) })
    const first = await build()
    await build()
    expect(announced).toHaveLength(1)
    expect(await store.repos.settings.get('generated_admin_key_sha256')).toBe(sha256Hex(announced[0]))
    const app = createApp(first)
    const call = (key: string) => app.handle(new Request('http://localhost/budget/list', { headers: { authorization: `Bearer ${key}` } }))
    expect((await call(announced[0])).status).toBe(200)
    expect((await call('sk-anything-else-0001')).status).toBe(401)
    await store.close()
  })
})
