/**
 * One structured log line per data-plane request — served, failed, refused — and never a secret in any line
 * the gateway logs: not a virtual key, not a JWT, not the master key, not an upstream key.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../test/engines'
import { insertKey, insertTeam } from '../../test/fixtures'
import { MASTER_KEY } from '../../test/gateway'
import { createSigningKey, type JwksServer } from '../../test/jwks-server'
import { afterResponses } from '../../test/metrics-scrape'
import { chat, startJwtProxyGateway, UPSTREAM_KEY, type ProxyGateway } from '../../test/proxy-gateway'
import { KEY_HASH_PREFIX_LENGTH } from './request-log'

describeEachEngine('request log lines', (engine) => {
  let proxy: ProxyGateway & { idp: JwksServer }
  beforeAll(async () => {
    proxy = await startJwtProxyGateway(engine, { litellm_jwtauth: { team_id_upsert: true, team_id_jwt_field: 'team_id' } })
    await insertTeam(proxy.gateway.store.repos, { teamId: 'team-log', teamAlias: 'Logged Team' })
  })
  afterAll(() => proxy.close())

  const requestLines = () => proxy.gateway.log.lines.filter((line) => line.message === 'request')
  const send = (key: string | null, body: unknown) => proxy.gateway.call('POST', '/v1/chat/completions', { key, body })

  test('each request leaves one line with its id, key alias and hash prefix, team, model group, status, latency and cost', async () => {
    const { key, row } = await insertKey(proxy.gateway.store.repos, { teamId: 'team-log', keyAlias: 'log-key', models: ['gpt-4o'] })
    const first = requestLines().length
    const served = await send(key, chat('gpt-4o'))
    expect(served.status).toBe(200)
    expect((await send(key, chat('llama3'))).status).toBe(401)
    await afterResponses()

    const lines = requestLines().slice(first)
    expect(lines).toHaveLength(2)
    const record = proxy.usage.byRequestId(served.headers.get('x-litellm-call-id')!)[0]
    expect(lines[0]).toMatchObject({
      level: 'info',
      request_id: record.requestId,
      route: '/chat/completions',
      key_alias: 'log-key',
      key_hash_prefix: row.token.slice(0, KEY_HASH_PREFIX_LENGTH),
      team_id: 'team-log',
      model_group: 'gpt-4o',
      status: 'success',
      http_status: 200,
      cost: record.cost,
      error_type: null,
    })
    expect(lines[0].latency_ms).toBeGreaterThanOrEqual(0)
    expect(lines[1]).toMatchObject({
      request_id: null,
      route: '/chat/completions',
      key_alias: 'log-key',
      model_group: 'llama3',
      status: 'refused',
      http_status: 401,
      cost: 0,
      error_type: 'key_model_access_denied',
    })
  })

  test('no log line carries a virtual key, a JWT, the master key or an upstream key', async () => {
    const { key } = await insertKey(proxy.gateway.store.repos, { keyAlias: 'secret-key' })
    const unknownKey = 'sk-unknown-key-that-is-not-stored-0123'
    const token = await proxy.idp.sign({ team_id: 'jwt-log-team' })
    const forged = await proxy.idp.sign({ team_id: 'jwt-log-team' }, { key: await createSigningKey('key-1') })
    const first = requestLines().length

    expect((await send(key, chat('gpt-4o'))).status).toBe(200)
    expect((await send(unknownKey, chat('gpt-4o'))).status).toBe(401)
    expect((await send(token, chat('gpt-4o'))).status).toBe(200)
    expect((await send(forged, chat('gpt-4o'))).status).toBe(401)
    expect((await send(MASTER_KEY, chat('gpt-4o'))).status).toBe(200)
    // An upstream that refuses the gateway's key, and one that echoes it back in its error.
    proxy.upstream.enqueue({ kind: 'error', status: 401 }, { kind: 'error', status: 400, message: `invalid key ${UPSTREAM_KEY}` })
    expect((await send(key, chat('gpt-4o'))).status).toBe(502)
    expect((await send(key, chat('gpt-4o'))).status).toBe(400)
    await afterResponses()

    const lines = requestLines().slice(first)
    expect(lines.map((line) => [line.status, line.http_status])).toEqual([
      ['success', 200],
      ['refused', 401],
      ['success', 200],
      ['refused', 401],
      ['success', 200],
      ['failure', 502],
      ['failure', 400],
    ])
    expect(lines[2]).toMatchObject({ team_id: 'jwt-log-team', key_alias: null, key_hash_prefix: null })
    expect(lines[5].error_type).toBe('upstream_auth_error')

    const everything = JSON.stringify(proxy.gateway.log.lines)
    for (const secret of [key, unknownKey, token, forged, MASTER_KEY, UPSTREAM_KEY]) expect(everything).not.toContain(secret)
    // Not even the parts of a JWT (its signature or payload segment).
    for (const part of token.split('.')) expect(everything).not.toContain(part)
  })
})
