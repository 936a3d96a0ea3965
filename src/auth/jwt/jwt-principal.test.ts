import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { startJwksServer, type JwksServer } from '../../../test/jwks-server'
import { systemClock } from '../../lib/clock'

describeEachEngine('JWT sign-in', (engine) => {
  let idp: JwksServer
  let gateway: TestGateway
  beforeAll(async () => {
    idp = await startJwksServer()
    gateway = await startGateway(engine, {
      clock: systemClock,
      env: { JWT_PUBLIC_KEY_URL: idp.url },
      config: {
        general_settings: { enable_jwt_auth: true },
        // As seed 003 writes it: the JWT block at the top level, default team budget under litellm_settings.
        litellm_jwtauth: { team_id_upsert: true, team_id_jwt_field: 'team_id', user_id_jwt_field: 'sub', user_id_upsert: true, upsert_sso_user_to_team: true },
        litellm_settings: { default_team_settings: [{ team_id: 'default-settings', max_budget: 100.0, budget_duration: '30d' }] },
      },
    })
  })
  afterAll(async () => {
    await gateway.close()
    await idp.stop()
  })

  test('a token with a new team_id creates the team with default_team_settings, once, even under concurrency', async () => {
    const token = await idp.sign({ team_id: 'jwt-team-1', sub: 'jwt-user-1' })
    const responses = await Promise.all(Array.from({ length: 5 }, () => gateway.call('GET', '/budget/list', { key: token })))
    // A team token may call only team_allowed_routes, but it was resolved (and the team created) first.
    for (const response of responses) {
      expect(response.body.error).toMatchObject({
        code: 403,
        message: "Key not allowed to access route=/budget/list. Allowed routes=['openai_routes', 'info_routes']",
      })
    }
    const team = (await gateway.store.repos.teams.get('jwt-team-1'))!
    expect(team.maxBudget).toBe(100)
    expect(team.budgetDuration).toBe('30d')
    expect(team.budgetResetAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000)
    expect((await gateway.store.repos.audit.list({ objectId: 'jwt-team-1' }, { offset: 0, limit: 10 })).total).toBe(1)
    expect(await gateway.store.repos.users.get('jwt-user-1')).not.toBeNull()
    expect((await gateway.store.repos.memberships.get({ teamId: 'jwt-team-1', userId: 'jwt-user-1' }))!.role).toBe('user')
  })

  test('the admin scope makes a proxy admin limited to the admin route groups', async () => {
    const token = await idp.sign({ scope: 'openid litellm_proxy_admin', sub: 'ops' })
    expect((await gateway.call('GET', '/budget/list', { key: token })).status).toBe(200)
    const metrics = await gateway.call('GET', '/metrics', { key: token })
    expect(metrics.body.error).toMatchObject({ code: 403 })
    expect(metrics.body.error.message).toStartWith('Key not allowed to access route=/metrics.')
  })

  test('expired, forged, alg none and wrong-audience tokens are refused with 401', async () => {
    const expired = await idp.sign({ team_id: 'jwt-team-1' }, { expiresInSeconds: -120 })
    expect((await gateway.call('GET', '/budget/list', { key: expired })).body.error).toMatchObject({
      code: 401,
      type: 'auth_error',
      message: 'Authentication Error - invalid JWT: token expired',
    })
    const { createSigningKey } = await import('../../../test/jwks-server')
    const forged = await idp.sign({ team_id: 'jwt-team-1' }, { key: await createSigningKey('key-1') })
    expect((await gateway.call('GET', '/budget/list', { key: forged })).status).toBe(401)
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')
    const body = Buffer.from(JSON.stringify({ team_id: 'jwt-team-1', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')
    expect((await gateway.call('GET', '/budget/list', { key: `${header}.${body}.` })).status).toBe(401)
  })

  test('a token that maps to neither a team nor a user is refused', async () => {
    const token = await idp.sign({ something: 'else' })
    expect((await gateway.call('GET', '/budget/list', { key: token })).body.error).toMatchObject({ code: 401, message: 'JWT does not map to a team or user' })
  })
})

describeEachEngine('JWT sign-in without team upsert', (engine) => {
  let idp: JwksServer
  let gateway: TestGateway
  beforeAll(async () => {
    idp = await startJwksServer()
    gateway = await startGateway(engine, {
      clock: systemClock,
      env: { JWT_PUBLIC_KEY_URL: idp.url, JWT_AUDIENCE: 'tollgate' },
      config: { general_settings: { enable_jwt_auth: true, litellm_jwtauth: { team_id_jwt_field: 'team_id' } } },
    })
  })
  afterAll(async () => {
    await gateway.close()
    await idp.stop()
  })

  test('an unknown team is refused with the contract message, and the audience is checked', async () => {
    const unknown = await idp.sign({ team_id: 'nope', aud: 'tollgate' })
    expect((await gateway.call('GET', '/budget/list', { key: unknown })).body.error.message).toBe(
      "Team doesn't exist in db. Team=nope. Create team via `/team/new` call.",
    )
    const wrongAudience = await idp.sign({ team_id: 'nope', aud: 'someone-else' })
    expect((await gateway.call('GET', '/budget/list', { key: wrongAudience })).body.error.message).toBe(
      "Authentication Error - invalid JWT: claim 'aud' check failed",
    )
  })
})
