import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { sha256Hex } from '../../lib/secrets'

const HOUR = 3_600_000

describeEachEngine('key rotation', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const works = async (key: string) => (await gateway.call('GET', '/key/info', { key })).status === 200
  const generate = async (body: object = {}) => (await gateway.call('POST', '/key/generate', { body })).body

  beforeAll(async () => {
    gateway = await startGateway(engine, { env: { LITELLM_KEY_ROTATION_GRACE_PERIOD: '1h' } })
    clock = gateway.clock as ManualClock
  })
  afterAll(() => gateway.close())

  test('regenerate keeps the row (spend, limits, alias) under a new plaintext; the old one is refused at once', async () => {
    const old = await generate({ key_alias: 'rotating', max_budget: 5, tpm_limit: 9 })
    await gateway.store.repos.keys.addSpend(old.token, 1.25)
    expect(await works(old.key)).toBe(true)
    const rotated = await gateway.call('POST', '/key/regenerate', { body: { key: old.key, grace_period: null } })
    expect(rotated.status).toBe(200)
    const { key, token } = rotated.body
    expect(key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/)
    expect(key).not.toBe(old.key)
    expect(token).toBe(sha256Hex(key))
    expect(rotated.body).toMatchObject({ key_alias: 'rotating', spend: 1.25, max_budget: 5, tpm_limit: 9, key_name: `sk-...${key.slice(-4)}` })
    expect(await works(old.key)).toBe(false)
    expect(await works(key)).toBe(true)
    const audit = await gateway.store.repos.audit.list({ objectId: token, action: 'rotated' }, { offset: 0, limit: 5 })
    expect(audit.rows[0].beforeValue).toMatchObject({ token: old.token })
    expect(JSON.stringify(audit.rows[0])).not.toContain(key)
  })

  test('with a grace period (body, else LITELLM_KEY_ROTATION_GRACE_PERIOD) the old key works until revoke_at, then is unknown everywhere', async () => {
    const first = await generate()
    const second = (await gateway.call('POST', `/key/${first.key}/regenerate`, { body: { grace_period: '2h' } })).body
    expect(await works(first.key)).toBe(true)
    clock.advance(HOUR)
    // Rotating again: the env default (1h) applies to the second key; the first keeps its own revoke time.
    const third = (await gateway.call('POST', `/key/${second.token}/regenerate`)).body
    expect(await gateway.audit(third.token, 'rotated')).toEqual([expect.objectContaining({ route: `/key/${second.token}/regenerate` })])
    expect(await works(first.key)).toBe(true)
    expect(await works(second.key)).toBe(true)
    expect(await works(third.key)).toBe(true)
    clock.advance(HOUR)
    expect(await works(first.key)).toBe(false)
    expect(await works(second.key)).toBe(false)
    expect(await works(third.key)).toBe(true)
    // Deleting the key also ends every grace period at once.
    const fourth = (await gateway.call('POST', '/key/regenerate', { body: { key: third.key, grace_period: '1d' } })).body
    expect(await works(third.key)).toBe(true)
    await gateway.call('POST', '/key/delete', { body: { keys: [fourth.key] } })
    expect(await works(third.key)).toBe(false)
  })

  test('a blocked key stays blocked under its rotated-out hash too', async () => {
    const old = await generate()
    const rotated = (await gateway.call('POST', '/key/regenerate', { body: { key: old.key, grace_period: '1h' } })).body
    expect(await works(old.key)).toBe(true)
    await gateway.call('POST', '/key/block', { body: { key: rotated.key } })
    expect(await gateway.audit(rotated.token, 'blocked')).toEqual([expect.objectContaining({ route: '/key/block', updatedValues: expect.objectContaining({ blocked: true }) })])
    expect((await gateway.call('GET', '/key/info', { key: old.key })).body.error.message).toBe("Key is blocked. Update via `/key/unblock` if you're an admin.")
  })

  test('regenerate with a chosen new key and field updates', async () => {
    const old = await generate({ max_budget: 1 })
    const rotated = await gateway.call('POST', '/key/regenerate', { body: { key: old.token, new_key: 'sk-chosen-new-key-0042', max_budget: 3, grace_period: null } })
    expect(rotated.body).toMatchObject({ key: 'sk-chosen-new-key-0042', key_name: 'sk-...0042', max_budget: 3 })
    expect(await works('sk-chosen-new-key-0042')).toBe(true)
    const token = rotated.body.token
    expect((await gateway.audit(token)).map((row) => row.action)).toEqual(['updated', 'rotated'])
    expect(JSON.stringify(await gateway.audit(token))).not.toContain('sk-chosen-new-key-0042')
  })

  test('regenerate refusals', async () => {
    const live = await generate()
    const cases: [string, Record<string, unknown>, number, string, string][] = [
      ['/key/regenerate', { key: 'sk-missing-key-0099' }, 404, 'Key sk-...0099 not found.', 'key'],
      ['/key/regenerate', { key: 'f'.repeat(64) }, 404, `Key ${'f'.repeat(64)} not found.`, 'key'],
      [
        '/key/regenerate',
        { key: live.key, new_key: 'my-new-key' },
        400,
        "New key must start with 'sk-'. This is to distinguish a key hash (used by litellm for logging / internal logic) from the actual key.",
        'new_key',
      ],
      ['/key/regenerate', { key: live.key, new_key: 'sk-chosen-new-key-0042' }, 400, 'A key with this value already exists. Please use a different key.', 'new_key'],
      ['/key/regenerate', { key: live.key, grace_period: '24 hours' }, 400, `Invalid grace_period '24 hours': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`, 'grace_period'],
      ['/key/regenerate', { key: live.key, new_master_key: 'sk-new-master' }, 400, expect.stringContaining('new_master_key') as any, 'new_master_key'],
      [`/key/${live.key}/regenerate`, { max_budget: -1 }, 400, 'max_budget cannot be negative. Received: -1', 'max_budget'],
    ]
    const auditBefore = await gateway.auditCount()
    for (const [path, body, status, message, param] of cases) {
      const response = await gateway.call('POST', path, { body })
      expect(response.body.error).toMatchObject({ code: status, message, param })
    }
    expect(await works(live.key)).toBe(true)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })
})
