import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'
import { sha256Hex } from '../../lib/secrets'

const DAY = 86_400_000
const stamp = (ms: number) => formatTimestamp(new Date(ms))
const durationMessage = (field: string, value: string) =>
  `Invalid ${field} '${value}': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`

describeEachEngine('keys', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock
  const audit = (objectId: string, action?: string) =>
    gateway.store.repos.audit.list({ objectId, action }, { offset: 0, limit: 50 }).then((page) => page.rows)

  beforeAll(async () => {
    gateway = await startGateway(engine)
    clock = gateway.clock as ManualClock
    const { repos } = gateway.store
    await repos.budgets.insert({ budgetId: 'tier-1', maxBudget: 50 })
    await repos.budgets.insert({ budgetId: 'org-budget' })
    await repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: 'org-budget', models: [], metadata: {} })
    await repos.organizations.insert({ organizationId: 'org-2', organizationAlias: 'Other', budgetId: 'org-budget', models: [], metadata: {} })
    await gateway.call('POST', '/team/new', {
      body: { team_id: 'team-a', organization_id: 'org-1', models: ['gpt-4o', 'llama3'], tpm_limit: 1000, rpm_limit: 100, members_with_roles: [{ role: 'user', user_id: 'member-1' }] },
    })
    await gateway.call('POST', '/team/new', { body: { team_id: 'team-b', models: ['llama3'], tpm_limit: 10 } })
  })
  afterAll(() => gateway.close())

  test('seed 003: generate for a team answers with the plaintext once and stores only its sha256', async () => {
    const generated = await gateway.call('POST', '/key/generate', { body: { team_id: 'team-a' } })
    expect(generated.status).toBe(200)
    const { key, token } = generated.body
    expect(key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/)
    expect(token).toBe(sha256Hex(key))
    expect(generated.body).toMatchObject({
      team_id: 'team-a',
      token_id: token,
      key_name: `sk-...${key.slice(-4)}`,
      organization_id: 'org-1',
      expires: null,
      models: [],
      spend: 0,
      blocked: false,
      key_type: 'default',
      created_by: 'default_user_id',
    })
    const row = (await gateway.store.repos.keys.get(token))!
    expect(JSON.stringify(row)).not.toContain(key)
    const [created] = await audit(token)
    expect(created).toMatchObject({ action: 'created', tableName: 'keys', route: '/key/generate' })
    expect(JSON.stringify(created)).not.toContain(key)
    expect((await gateway.call('GET', '/key/info', { key })).status).toBe(200)
  })

  test('generate stores every contract field', async () => {
    const now = clock.now()
    const generated = await gateway.call('POST', '/key/generate', {
      body: {
        key: 'sk-my-custom-key-0001',
        key_alias: 'everything',
        duration: '30d',
        user_id: 'member-1',
        team_id: 'team-a',
        budget_id: 'tier-1',
        models: ['gpt-4o'],
        aliases: { fast: 'llama3' },
        max_budget: 0.000000001,
        soft_budget: 0,
        budget_duration: '1mo',
        spend: 0.5,
        tpm_limit: 100,
        rpm_limit: 10,
        max_parallel_requests: 2,
        model_rpm_limit: { 'gpt-4o': 5 },
        model_tpm_limit: { 'gpt-4o': 50 },
        model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } },
        metadata: { app: 'billing', spend_logs_metadata: { cost_center: 7 } },
        tags: ['prod'],
        allowed_routes: ['/chat/completions'],
        key_type: 'llm_api',
        temp_budget_increase: 5,
        temp_budget_expiry: '2026-02-01T00:00:00+01:00',
        blocked: false,
        guardrails: ['pii'],
      },
    })
    expect(generated.status).toBe(200)
    expect(generated.body).toMatchObject({
      key: 'sk-my-custom-key-0001',
      key_name: 'sk-...0001',
      key_alias: 'everything',
      expires: stamp(now + 30 * DAY),
      duration: '30d',
      user_id: 'member-1',
      team_id: 'team-a',
      organization_id: 'org-1',
      budget_id: 'tier-1',
      litellm_budget_table: { budget_id: 'tier-1', max_budget: 50 },
      models: ['gpt-4o'],
      aliases: { fast: 'llama3' },
      max_budget: 1e-9,
      soft_budget: 0,
      budget_duration: '1mo',
      budget_reset_at: '2026-02-15T12:00:00.000000Z',
      spend: 0.5,
      tpm_limit: 100,
      rpm_limit: 10,
      max_parallel_requests: 2,
      model_rpm_limit: { 'gpt-4o': 5 },
      model_tpm_limit: { 'gpt-4o': 50 },
      model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } },
      metadata: { app: 'billing', spend_logs_metadata: { cost_center: 7 }, tags: ['prod'], model_rpm_limit: { 'gpt-4o': 5 }, model_tpm_limit: { 'gpt-4o': 50 }, guardrails: ['pii'] },
      tags: ['prod'],
      allowed_routes: ['/chat/completions'],
      key_type: 'llm_api',
      temp_budget_increase: 5,
      temp_budget_expiry: '2026-01-31T23:00:00.000000Z',
    })
    const preset = await gateway.call('POST', '/key/generate', { body: { key_type: 'read_only' } })
    expect(preset.body.allowed_routes).toEqual(['info_routes'])
    const never = await gateway.call('POST', '/key/generate', { body: { duration: '-1', user_id: 'personal-user' } })
    expect(never.body).toMatchObject({ expires: null, user_id: 'personal-user' })
    expect((await gateway.store.repos.users.get('personal-user'))!.userRole).toBe('internal_user')
    expect((await audit('personal-user'))[0]).toMatchObject({ action: 'created', tableName: 'users' })
  })

  test('generate refuses bad input with the contract message naming the field, and writes nothing', async () => {
    const before = (await gateway.store.repos.keys.list({}, { offset: 0, limit: 1 })).total
    const auditBefore = await gateway.auditCount()
    const cases: [Record<string, unknown>, number, unknown, string | null][] = [
      [{ key: 'my-key-abcd' }, 400, "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ****abcd", 'key'],
      [{ key: 'sk-bad key!wxyz' }, 400, "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ****wxyz", 'key'],
      [{ key: 'sk-my-custom-key-0001' }, 400, 'A key with this value already exists. Please use a different key.', 'key'],
      [{ key_alias: 'everything' }, 400, "Key with alias 'everything' already exists. Unique key aliases across all keys are required.", 'key_alias'],
      [{ max_budget: -1 }, 400, 'max_budget cannot be negative. Received: -1', 'max_budget'],
      [{ soft_budget: -0.5 }, 400, 'soft_budget cannot be negative. Received: -0.5', 'soft_budget'],
      [{ budget_duration: 'daily' }, 400, durationMessage('budget_duration', 'daily'), 'budget_duration'],
      [{ duration: '1hr' }, 400, durationMessage('duration', '1hr'), 'duration'],
      [{ model_max_budget: { m: { budget_limit: 1, time_period: '1x' } } }, 400, durationMessage('model_max_budget.m.time_period', '1x'), 'model_max_budget.m.time_period'],
      [{ team_id: 'nope' }, 404, 'Team not found, passed team_id=nope', 'team_id'],
      [{ team_id: 'team-b', user_id: 'member-1' }, 400, 'User=member-1 not assigned to team=team-b', 'user_id'],
      [{ organization_id: 'org-x' }, 400, 'Organization not found for organization_id=org-x', 'organization_id'],
      [{ team_id: 'team-a', organization_id: 'org-2' }, 400, 'organization_id=org-2 does not match organization_id=org-1 of team=team-a', 'organization_id'],
      [{ budget_id: 'nope' }, 404, "Budget with id 'nope' not found.", 'budget_id'],
      [{ temp_budget_increase: 5 }, 400, 'temp_budget_increase and temp_budget_expiry must be set together', 'temp_budget_expiry'],
      [{ team_id: 'team-b', tpm_limit: 11, tpm_limit_type: 'guaranteed_throughput' }, 400, 'Allocated TPM limit=0 + Key TPM limit=11 is greater than team TPM limit=10', 'tpm_limit'],
      [{ user_id: ' spaced' }, 422, 'user_id: must not start or end with whitespace', 'user_id'],
      [{ max_budget: 'ten' }, 422, 'max_budget: expected number', 'max_budget'],
      [{ key_type: 'admin' }, 422, expect.stringContaining('key_type: '), 'key_type'],
      [{ models: 'gpt-4o' }, 422, 'models: expected array', 'models'],
      [{ max_budgett: 1 }, 422, 'max_budgett: unknown field', 'max_budgett'],
    ]
    for (const [body, status, message, param] of cases) {
      const response = await gateway.call('POST', '/key/generate', { body })
      expect({ body, status: response.status }).toEqual({ body, status })
      expect(response.body.error).toMatchObject({ message, param, code: status })
    }
    expect((await gateway.store.repos.keys.list({}, { offset: 0, limit: 1 })).total).toBe(before)
    expect(await gateway.store.repos.users.get(' spaced')).toBeNull()
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('guaranteed throughput counts the limits the team has already given out', async () => {
    const first = await gateway.call('POST', '/key/generate', { body: { team_id: 'team-b', tpm_limit: 6, tpm_limit_type: 'guaranteed_throughput' } })
    expect(first.status).toBe(200)
    const second = await gateway.call('POST', '/key/generate', { body: { team_id: 'team-b', tpm_limit: 5, tpm_limit_type: 'guaranteed_throughput' } })
    expect(second.body.error.message).toBe('Allocated TPM limit=6 + Key TPM limit=5 is greater than team TPM limit=10')
    expect(await audit(first.body.token, 'created')).toEqual([expect.objectContaining({ route: '/key/generate', tableName: 'keys' })])
    await gateway.call('POST', '/key/delete', { body: { keys: [first.body.key] } })
    expect(await audit(first.body.token, 'deleted')).toEqual([expect.objectContaining({ route: '/key/delete' })])
  })

  test('service-account keys need a team and never have a user', async () => {
    const missing = await gateway.call('POST', '/key/service-account/generate', { body: {} })
    expect(missing.body.error).toMatchObject({ code: 400, param: 'team_id' })
    const created = await gateway.call('POST', '/key/service-account/generate', { body: { team_id: 'team-a', user_id: 'member-1' } })
    expect(created.body).toMatchObject({ team_id: 'team-a', user_id: null })
    const [row] = await audit(created.body.token, 'created')
    expect(row).toMatchObject({ route: '/key/service-account/generate', organizationId: 'org-1' })
    expect(row.updatedValues).toMatchObject({ userId: null, teamId: 'team-a' })
  })

  test('update is partial; the response carries the key as passed and no hash; the cache is evicted', async () => {
    const created = await gateway.call('POST', '/key/generate', { body: { key_alias: 'to-update', max_budget: 10, tpm_limit: 5, models: ['a'], metadata: { x: 1 }, tags: ['t'] } })
    const { key, token } = created.body
    await gateway.context.caches.keys.get(token)
    const updated = await gateway.call('POST', '/key/update', { body: { key, tpm_limit: null, max_budget: 0, models: [], tags: ['u'], key_alias: 'updated-alias' } })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ key, key_alias: 'updated-alias', max_budget: 0, tpm_limit: null, models: [], metadata: { x: 1, tags: ['u'] } })
    expect(updated.body.token).toBeUndefined()
    expect(gateway.context.caches.keys.peek(token)).toBeUndefined()
    const byHash = await gateway.call('POST', '/key/update', { body: { key: token, metadata: null, aliases: { a: 'b' } } })
    expect(byHash.body).toMatchObject({ key: token, metadata: {}, aliases: { a: 'b' }, max_budget: 0, key_alias: 'updated-alias' })
    const [last] = await audit(token, 'updated')
    expect(last.beforeValue).toMatchObject({ aliases: {} })
    expect(last.updatedValues).toMatchObject({ aliases: { a: 'b' } })
  })

  test('update: a changed budget_duration starts a fresh window; the same value changes nothing; duration moves expires', async () => {
    const created = await gateway.call('POST', '/key/generate', { body: { budget_duration: '1d' } })
    const { key, token } = created.body
    await gateway.store.repos.keys.addSpend(token, 3)
    clock.advance(1000)
    const same = await gateway.call('POST', '/key/update', { body: { key, budget_duration: '1d' } })
    expect(same.body).toMatchObject({ spend: 3, budget_reset_at: created.body.budget_reset_at })
    const changed = await gateway.call('POST', '/key/update', { body: { key, budget_duration: '1h', duration: '2h' } })
    expect(changed.body).toMatchObject({ spend: 0, budget_reset_at: stamp(clock.now() + 3_600_000), expires: stamp(clock.now() + 7_200_000) })
    const cleared = await gateway.call('POST', '/key/update', { body: { key, budget_duration: null, duration: null } })
    expect(cleared.body).toMatchObject({ budget_duration: null, budget_reset_at: null, expires: null })
    const updates = await audit(token, 'updated')
    expect(updates).toHaveLength(3)
    expect(updates[1].beforeValue).toMatchObject({ spend: 3, budgetDuration: '1d' })
    expect(updates[1].updatedValues).toMatchObject({ spend: 0, budgetDuration: '1h' })
  })

  test('update refusals: unknown key, duplicate alias, and a move to a team the key does not fit', async () => {
    const key = (await gateway.call('POST', '/key/generate', { body: { models: ['gpt-4o'], tpm_limit: 50, user_id: 'member-1' } })).body
    const cases: [Record<string, unknown>, number, string][] = [
      [{ key: 'sk-unknown-0000', tpm_limit: 1 }, 404, 'Key not found in database'],
      [{ key: 'not-a-key', tpm_limit: 1 }, 404, 'Key not found in database'],
      [{ key: key.key, key_alias: 'everything' }, 400, "Key with alias 'everything' already exists. Unique key aliases across all keys are required."],
      [{ key: key.key, team_id: 'team-b' }, 403, `Key=${key.token} has models=['gpt-4o'] which team=team-b cannot call. Team models=['llama3']`],
      [{ key: key.key, team_id: 'team-b', models: ['llama3'] }, 403, `Key=${key.token} has a tpm_limit=50 which is greater than the team's tpm_limit=10`],
      [{ key: key.key, team_id: 'team-b', models: ['llama3'], tpm_limit: 5 }, 403, 'User=member-1 is not a member of the team=team-b. Check team members via `/team/info`.'],
      [{ key: key.key, team_id: 'nope' }, 404, 'Team not found, passed team_id=nope'],
      [{ key: key.key, max_budget: -3 }, 400, 'max_budget cannot be negative. Received: -3'],
    ]
    const auditBefore = await gateway.auditCount()
    for (const [body, status, message] of cases) {
      const response = await gateway.call('POST', '/key/update', { body })
      expect({ body, status: response.status, message: response.body.error?.message }).toEqual({ body, status, message })
    }
    expect(await gateway.auditCount()).toBe(auditBefore)
    const moved = await gateway.call('POST', '/key/update', { body: { key: key.key, team_id: 'team-a' } })
    expect(moved.body).toMatchObject({ team_id: 'team-a', organization_id: 'org-1' })
    expect((await gateway.store.repos.keys.get(key.token))!.tpmLimit).toBe(50)
    const [audited] = await audit(key.token, 'updated')
    expect(audited).toMatchObject({ beforeValue: expect.objectContaining({ teamId: null }), updatedValues: expect.objectContaining({ teamId: 'team-a' }) })
  })

  test('info: by plaintext or hash; a virtual key reads its own key without passing it; others answer as missing', async () => {
    const mine = (await gateway.call('POST', '/key/generate', { body: { key_alias: 'mine', user_id: 'reader' } })).body
    const other = (await gateway.call('POST', '/key/generate', { body: {} })).body
    const byPlain = await gateway.call('GET', `/key/info?key=${mine.key}`)
    expect(byPlain.body).toMatchObject({ key: mine.key, info: { key_alias: 'mine', key_name: mine.key_name, litellm_budget_table: null } })
    expect(byPlain.body.info.token).toBeUndefined()
    expect((await gateway.call('GET', `/key/info?key=${mine.token}`)).body.info.key_alias).toBe('mine')
    const own = await gateway.call('GET', '/key/info', { key: mine.key })
    expect(own.body).toMatchObject({ key: mine.token, info: { key_alias: 'mine' } })
    expect((await gateway.call('GET', `/key/info?key=${mine.key}`, { key: mine.key })).status).toBe(200)
    const unrelated = await gateway.call('GET', `/key/info?key=${other.key}`, { key: mine.key })
    expect(unrelated.body.error).toEqual({ message: 'Key not found in database', type: 'not_found_error', param: 'key', code: 404 })
    // A key without a user can only ever read itself.
    const refused = await gateway.call('GET', `/key/info?key=${mine.key}`, { key: other.key })
    expect(refused.body.error).toEqual({ message: "You are not allowed to access this key's info. Your role=internal_user", type: 'auth_error', param: null, code: 403 })
    const missing = await gateway.call('GET', '/key/info?key=sk-nothing-here-0000')
    expect(missing.body.error).toEqual({ message: 'Key not found in database', type: 'not_found_error', param: 'key', code: 404 })
    const many = await gateway.call('POST', '/v2/key/info', { body: { keys: [mine.key, other.token, 'sk-nothing-here-0000'] } })
    expect(many.body.key).toEqual([mine.key, other.token, 'sk-nothing-here-0000'])
    expect(many.body.info.map((i: any) => i.key_name).sort()).toEqual([mine.key_name, other.key_name].sort())
    expect((await gateway.call('POST', '/v2/key/info', { body: { keys: [] } })).body.error).toMatchObject({ code: 422, message: 'Malformed request. No keys passed in.' })
    const onlyOwn = await gateway.call('POST', '/v2/key/info', { key: mine.key, body: { keys: [mine.key, other.key] } })
    expect(onlyOwn.body.info.map((i: any) => i.key_alias)).toEqual(['mine'])
  })

  test('list: hashes by default, full objects on request, filters, sorting and pages', async () => {
    const all = await gateway.call('GET', '/key/list?size=100')
    expect(all.status).toBe(200)
    expect(all.body.keys.every((k: unknown) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k as string))).toBe(true)
    expect(all.body).toMatchObject({ total_count: all.body.keys.length, current_page: 1, total_pages: 1 })
    const team = await gateway.call('GET', '/key/list?team_id=team-a&return_full_object=true&sort_by=key_alias&sort_order=asc')
    expect(team.body.keys.every((k: any) => k.team_id === 'team-a' && k.token)).toBe(true)
    const paged = await gateway.call('GET', '/key/list?size=2&page=2')
    expect(paged.body).toMatchObject({ current_page: 2, total_pages: Math.ceil(all.body.total_count / 2) })
    expect(paged.body.keys).toHaveLength(2)
    const byAlias = await gateway.call('GET', '/key/list?key_alias=mine&return_full_object=true')
    expect(byAlias.body.keys.map((k: any) => k.key_alias)).toEqual(['mine'])
    const byHash = await gateway.call('GET', `/key/list?key_hash=${byAlias.body.keys[0].token}`)
    expect(byHash.body.keys).toEqual([byAlias.body.keys[0].token])
    expect((await gateway.call('GET', '/key/list?user_id=reader')).body.total_count).toBe(1)
    expect((await gateway.call('GET', '/key/list?size=101')).status).toBe(422)
    expect((await gateway.call('GET', '/key/list?sort_by=secret')).status).toBe(422)
  })

  test('aliases: alphabetical, searchable, paged', async () => {
    const aliases = await gateway.call('GET', '/key/aliases')
    expect(aliases.body).toMatchObject({ current_page: 1, size: 50 })
    expect(aliases.body.aliases).toEqual([...aliases.body.aliases].sort())
    expect(aliases.body.aliases).toContain('everything')
    const search = await gateway.call('GET', '/key/aliases?search=EVERY&size=1')
    expect(search.body).toEqual({ aliases: ['everything'], total_count: 1, current_page: 1, total_pages: 1, size: 1 })
  })

  test('block and unblock take effect at once, for admin-created keys too', async () => {
    const { key, token } = (await gateway.call('POST', '/key/generate', { body: {} })).body
    expect((await gateway.call('GET', '/key/info', { key })).status).toBe(200)
    const blocked = await gateway.call('POST', '/key/block', { body: { key } })
    expect(blocked.body).toMatchObject({ token, blocked: true })
    expect((await gateway.call('GET', '/key/info', { key })).body.error).toMatchObject({ code: 401, message: "Key is blocked. Update via `/key/unblock` if you're an admin." })
    expect((await gateway.call('POST', '/key/unblock', { body: { key: token } })).body.blocked).toBe(false)
    expect((await gateway.call('GET', '/key/info', { key })).status).toBe(200)
    expect((await audit(token, 'blocked')).length).toBe(1)
    expect((await audit(token, 'unblocked')).length).toBe(1)
    expect((await gateway.call('POST', '/key/block', { body: { key: 'nonsense' } })).body.error).toMatchObject({ code: 400, message: 'Invalid key format.' })
    expect((await gateway.call('POST', '/key/block', { body: { key: 'sk-unknown-0000' } })).body.error).toMatchObject({ code: 404, message: 'Key not found in database' })
  })

  test('delete by keys or aliases is all-or-nothing, archives the rows and refuses the key at once', async () => {
    const a = (await gateway.call('POST', '/key/generate', { body: { key_alias: 'del-a' } })).body
    const b = (await gateway.call('POST', '/key/generate', { body: { key_alias: 'del-b' } })).body
    expect((await gateway.call('GET', '/key/info', { key: a.key })).status).toBe(200)
    const partial = await gateway.call('POST', '/key/delete', { body: { keys: [a.key], key_aliases: ['del-b', 'del-missing'] } })
    expect(partial.body.error).toEqual({ message: 'No keys found', type: 'not_found_error', param: 'key_aliases', code: 404 })
    expect(await gateway.store.repos.keys.get(a.token)).not.toBeNull()
    const none = await gateway.call('POST', '/key/delete', { body: {} })
    expect(none.body.error).toMatchObject({ code: 400, message: "At least one of 'keys' or 'key_aliases' must be provided." })
    const deleted = await gateway.call('POST', '/key/delete', { body: { keys: [a.key], key_aliases: ['del-b'] } })
    expect(deleted.body).toEqual({ deleted_keys: [a.key, 'del-b'] })
    expect(await gateway.store.repos.keys.get(a.token)).toBeNull()
    expect(await gateway.store.repos.keys.get(b.token)).toBeNull()
    expect((await gateway.store.repos.archive.deletedKeys({ token: b.token }))[0]).toMatchObject({ keyAlias: 'del-b', deletedBy: 'default_user_id' })
    expect((await audit(a.token, 'deleted')).length).toBe(1)
    expect((await gateway.call('GET', '/key/info', { key: a.key })).body.error.type).toBe('token_not_found_in_db')
    expect((await gateway.call('POST', '/key/delete', { body: { keys: [a.token] } })).status).toBe(404)
  })

  test('reset_spend lowers spend within the contract bounds', async () => {
    const { key, token } = (await gateway.call('POST', '/key/generate', { body: { max_budget: 2 } })).body
    await gateway.store.repos.keys.addSpend(token, 3.5)
    const tooHigh = await gateway.call('POST', `/key/${key}/reset_spend`, { body: { reset_to: 4 } })
    expect(tooHigh.body.error).toMatchObject({ code: 400, message: 'reset_to (4.0) must be <= current spend (3.5)', param: 'reset_to' })
    expect((await gateway.call('POST', `/key/${key}/reset_spend`, { body: { reset_to: 3 } })).body.error.message).toBe('reset_to (3.0) must be <= max_budget (2.0)')
    expect((await gateway.call('POST', `/key/${key}/reset_spend`, { body: { reset_to: 'zero' } })).body.error.message).toBe('reset_to must be a float')
    expect((await gateway.call('POST', `/key/${key}/reset_spend`, { body: { reset_to: -1 } })).status).toBe(400)
    const reset = await gateway.call('POST', `/key/${token}/reset_spend`, { body: { reset_to: 0 } })
    expect(reset.body).toEqual({ key_hash: token, spend: 0, previous_spend: 3.5, max_budget: 2, budget_reset_at: null })
    expect((await audit(token, 'updated'))[0].updatedValues).toMatchObject({ spend: 0 })
    expect((await gateway.call('POST', '/key/sk-unknown-0000/reset_spend', { body: { reset_to: 0 } })).status).toBe(404)
  })

  test('bulk update applies each key on its own and reports failures', async () => {
    const a = (await gateway.call('POST', '/key/generate', { body: {} })).body
    const b = (await gateway.call('POST', '/key/generate', { body: {} })).body
    const result = await gateway.call('POST', '/key/bulk_update', {
      body: { keys: [{ key: a.key, rpm_limit: 7 }, { key: 'sk-unknown-0000', rpm_limit: 1 }, { key: b.token, max_budget: -1 }] },
    })
    expect(result.body.total_requested).toBe(3)
    expect(result.body.successful_updates).toEqual([{ key: a.key, key_info: expect.objectContaining({ rpm_limit: 7 }) }])
    expect(result.body.failed_updates).toEqual([
      { key: 'sk-unknown-0000', key_info: { key: 'sk-unknown-0000', rpm_limit: 1 }, failed_reason: 'Key not found in database' },
      { key: b.token, key_info: { key: b.token, max_budget: -1 }, failed_reason: 'max_budget cannot be negative. Received: -1' },
    ])
    expect(await audit(a.token, 'updated')).toEqual([expect.objectContaining({ route: '/key/bulk_update' })])
    expect(await audit(b.token, 'updated')).toEqual([])
    const auditBefore = await gateway.auditCount()
    const tooMany = await gateway.call('POST', '/key/bulk_update', { body: { keys: Array.from({ length: 501 }, () => ({ key: a.key })) } })
    expect(tooMany.body.error).toMatchObject({ code: 400, message: 'Maximum 500 keys can be updated at once. Found 501 keys.' })
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('health', async () => {
    expect((await gateway.call('POST', '/key/health')).body).toEqual({ key: 'healthy', logging_callbacks: null })
  })

  test('block, unblock and bulk update are for proxy admins; a key without a user lists nothing and creates no key', async () => {
    expect((await gateway.call('GET', '/key/list', { key: null })).status).toBe(401)
    const { key } = (await gateway.call('POST', '/key/generate', { body: {} })).body
    for (const path of ['/key/block', '/key/unblock', '/key/bulk_update']) {
      const refused = await gateway.call('POST', path, { key, body: {} })
      expect({ path, status: refused.status, message: refused.body.error.message }).toEqual({ path, status: 403, message: 'Admin-only endpoint. Not allowed to access this.' })
    }
    const listed = await gateway.call('GET', '/key/list', { key })
    expect(listed.body).toMatchObject({ keys: [], total_count: 0 })
    const auditBefore = await gateway.auditCount()
    const generated = await gateway.call('POST', '/key/generate', { key, body: {} })
    expect(generated.status).toBe(403)
    expect(generated.body.error.message).toContain('user_id')
    expect(await gateway.auditCount()).toBe(auditBefore)
  })
})

describeEachEngine('key generation params from config', (engine) => {
  let gateway: TestGateway
  beforeAll(async () => {
    gateway = await startGateway(engine, {
      config: {
        litellm_settings: {
          default_key_generate_params: { max_budget: 1.5, models: ['llama3'], duration: '7d' },
          upperbound_key_generate_params: { max_budget: 10, tpm_limit: 1000, duration: '30d', budget_duration: '1mo' },
        },
      },
    })
  })
  afterAll(() => gateway.close())

  test('defaults fill null fields; upper bounds fill missing ones and refuse larger values', async () => {
    const now = gateway.clock.now()
    const filled = await gateway.call('POST', '/key/generate', { body: {} })
    expect(filled.body).toMatchObject({ max_budget: 1.5, models: ['llama3'], tpm_limit: 1000, budget_duration: '1mo', expires: stamp(now + 7 * DAY) })
    const own = await gateway.call('POST', '/key/generate', { body: { max_budget: 10, models: [], duration: '4w' } })
    expect(own.body).toMatchObject({ max_budget: 10, models: [] })
    expect((await gateway.audit(filled.body.token, 'created'))[0].updatedValues).toMatchObject({ maxBudget: 1.5, tpmLimit: 1000 })
    const auditBefore = await gateway.auditCount()
    const cases: [Record<string, unknown>, string][] = [
      [{ max_budget: 11 }, 'max_budget is over max limit set in config - user_value=11; max_value=10'],
      [{ tpm_limit: 1001 }, 'tpm_limit is over max limit set in config - user_value=1001; max_value=1000'],
      [{ duration: '31d' }, 'duration is over max limit set in config - user_value=31d; max_value=30d'],
      [{ duration: '-1' }, 'duration is over max limit set in config - user_value=-1; max_value=30d'],
      [{ budget_duration: '5w' }, 'budget_duration is over max limit set in config - user_value=5w; max_value=1mo'],
    ]
    for (const [body, message] of cases) {
      const response = await gateway.call('POST', '/key/generate', { body })
      expect({ body, status: response.status, message: response.body.error?.message }).toEqual({ body, status: 400, message })
    }
    const key = filled.body.key
    const update = await gateway.call('POST', '/key/update', { body: { key, max_budget: 12 } })
    expect(update.body.error.message).toBe('max_budget is over max limit set in config - user_value=12; max_value=10')
    expect(await gateway.auditCount()).toBe(auditBefore)
  })
})
