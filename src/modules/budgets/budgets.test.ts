import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'

describeEachEngine('budget tiers', (engine) => {
  let gateway: TestGateway
  beforeAll(async () => {
    gateway = await startGateway(engine)
  })
  afterAll(() => gateway.close())

  test('a new budget gets an id, its window end, and an audit row', async () => {
    const now = gateway.clock.now()
    const created = await gateway.call('POST', '/budget/new', { body: { budget_id: 'tier-1', max_budget: 100, budget_duration: '30d', tpm_limit: 1000 } })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ budget_id: 'tier-1', max_budget: 100, budget_duration: '30d', tpm_limit: 1000 })
    expect(created.body.budget_reset_at).toBe(new Date(now + 30 * 86_400_000).toISOString().replace('Z', '000Z'))
    const audit = await gateway.store.repos.audit.list({ objectId: 'tier-1' }, { offset: 0, limit: 5 })
    expect(audit.rows[0]).toMatchObject({ action: 'created', tableName: 'budgets', changedBy: 'default_user_id', route: '/budget/new' })
    expect(audit.rows[0].updatedValues).toMatchObject({ budgetId: 'tier-1', maxBudget: 100 })
    const generated = await gateway.call('POST', '/budget/new', { body: {} })
    expect(generated.body.budget_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('bad input: duplicates, negative money, a malformed duration, wrong types, unknown fields', async () => {
    const auditBefore = await gateway.auditCount()
    const duplicate = await gateway.call('POST', '/budget/new', { body: { budget_id: 'tier-1' } })
    expect(duplicate.status).toBe(400)
    expect(duplicate.body.error).toEqual({ message: "Budget with id 'tier-1' already exists.", type: 'bad_request_error', param: 'budget_id', code: 400 })
    const negative = await gateway.call('POST', '/budget/new', { body: { max_budget: -1 } })
    expect(negative.body.error).toMatchObject({ code: 400, message: 'max_budget must be a non-negative finite number. Received: -1' })
    for (const duration of ['1hr', '30', 'daily', '', 'none', '0d', '-1d', '1x']) {
      const bad = await gateway.call('POST', '/budget/new', { body: { budget_duration: duration } })
      expect(bad.status).toBe(400)
      expect(bad.body.error.param).toBe('budget_duration')
      expect(bad.body.error.message).toBe(
        `Invalid budget_duration '${duration}': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`,
      )
    }
    const wrongType = await gateway.call('POST', '/budget/new', { body: { max_budget: 'ten' } })
    expect(wrongType.status).toBe(422)
    expect(wrongType.body.error).toEqual({ message: 'max_budget: expected number', type: 'validation_error', param: 'max_budget', code: 422 })
    const unknown = await gateway.call('POST', '/budget/new', { body: { max_budgett: 1 } })
    expect(unknown.body.error).toMatchObject({ code: 422, param: 'max_budgett', message: 'max_budgett: unknown field' })
    expect((await gateway.call('GET', '/budget/list')).body.length).toBe(2)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('update: partial, explicit null clears, a changed duration starts a fresh window', async () => {
    ;(gateway.clock as ManualClock).advance(60_000)
    const now = gateway.clock.now()
    const updated = await gateway.call('POST', '/budget/update', { body: { budget_id: 'tier-1', tpm_limit: null, budget_duration: '1d' } })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ max_budget: 100, tpm_limit: null, budget_duration: '1d' })
    expect(Date.parse(updated.body.budget_reset_at)).toBe(now + 86_400_000)
    const same = await gateway.call('POST', '/budget/update', { body: { budget_id: 'tier-1', budget_duration: '1d', max_budget: 0 } })
    expect(same.body.budget_reset_at).toBe(updated.body.budget_reset_at)
    expect(same.body.max_budget).toBe(0)
    const missing = await gateway.call('POST', '/budget/update', { body: { budget_id: 'nope', max_budget: 1 } })
    expect(missing.status).toBe(404)
    expect((await gateway.call('POST', '/budget/update', { body: { max_budget: 1 } })).body.error.message).toBe('budget_id is required')
    const audit = await gateway.store.repos.audit.list({ objectId: 'tier-1', action: 'updated' }, { offset: 0, limit: 5 })
    expect(audit.rows[1].beforeValue).toMatchObject({ tpmLimit: 1000 })
    expect(audit.rows[1].updatedValues).toMatchObject({ tpmLimit: null, budgetDuration: '1d' })
  })

  test('info, settings and delete', async () => {
    const info = await gateway.call('POST', '/budget/info', { body: { budgets: ['tier-1', 'nope'] } })
    expect(info.body.map((b: any) => b.budget_id)).toEqual(['tier-1'])
    const none = await gateway.call('POST', '/budget/info', { body: { budgets: [] } })
    expect(none.body.error).toMatchObject({ code: 400, message: "Specify list of budget id's to query. Passed in=[]" })
    const settings = await gateway.call('GET', '/budget/settings?budget_id=tier-1')
    expect(settings.body.find((f: any) => f.field_name === 'max_budget')).toMatchObject({ field_value: 0, stored_in_db: true })
    await gateway.store.repos.keys.insert({ token: 'f'.repeat(64), keyName: 'sk-...ffff', budgetId: 'tier-1', models: [], aliases: {}, metadata: {}, allowedRoutes: [], modelMaxBudget: {}, modelSpend: {} })
    const referenced = await gateway.call('POST', '/budget/delete', { body: { id: 'tier-1' } })
    expect(referenced.body.error).toMatchObject({ code: 400, message: 'Budget tier-1 is still referenced by 1 objects' })
    await gateway.store.repos.keys.delete('f'.repeat(64))
    const deleted = await gateway.call('POST', '/budget/delete', { body: { id: 'tier-1' } })
    expect(deleted.body.budget_id).toBe('tier-1')
    expect((await gateway.call('POST', '/budget/delete', { body: { id: 'tier-1' } })).status).toBe(404)
    const audit = await gateway.store.repos.audit.list({ objectId: 'tier-1', action: 'deleted' }, { offset: 0, limit: 5 })
    expect(audit.total).toBe(1)
  })

  test('a tier links keys, customers and organizations; a new window length restarts the spend of everything on it', async () => {
    await gateway.call('POST', '/budget/new', { body: { budget_id: 'shared', max_budget: 10, budget_duration: '1d' } })
    const key = await gateway.call('POST', '/key/generate', { body: { budget_id: 'shared' } })
    expect(key.body.litellm_budget_table).toMatchObject({ budget_id: 'shared', max_budget: 10 })
    const ownWindow = await gateway.call('POST', '/key/generate', { body: { budget_id: 'shared', budget_duration: '1h' } })
    await gateway.call('POST', '/customer/new', { body: { user_id: 'cust', budget_id: 'shared' } })
    await gateway.call('POST', '/organization/new', { body: { organization_id: 'org', organization_alias: 'Org', budget_id: 'shared' } })
    const { repos } = gateway.store
    await Promise.all([repos.keys.addSpend(key.body.token, 1), repos.keys.addSpend(ownWindow.body.token, 1), repos.endUsers.addSpend('cust', 1), repos.organizations.addSpend('org', 1)])

    const referenced = await gateway.call('POST', '/budget/delete', { body: { id: 'shared' } })
    expect(referenced.body.error.message).toBe('Budget shared is still referenced by 4 objects')
    await gateway.call('POST', '/budget/update', { body: { budget_id: 'shared', max_budget: 20 } })
    expect((await repos.endUsers.get('cust'))!.spend).toBe(1)
    await gateway.call('POST', '/budget/update', { body: { budget_id: 'shared', budget_duration: '1w' } })
    expect((await repos.keys.get(key.body.token))!.spend).toBe(0)
    expect((await repos.endUsers.get('cust'))!.spend).toBe(0)
    expect((await repos.organizations.get('org'))!.spend).toBe(0)
    // A key with a window of its own keeps its spend: the tier's window is not its window.
    expect((await repos.keys.get(ownWindow.body.token))!.spend).toBe(1)
    expect((await gateway.call('GET', '/customer/info?end_user_id=cust')).body.litellm_budget_table.max_budget).toBe(20)
  })

  test('budget routes need an admin credential', async () => {
    expect((await gateway.call('GET', '/budget/list', { key: null })).body.error).toEqual({
      message: 'No api key passed in.',
      type: 'auth_error',
      param: null,
      code: 401,
    })
  })
})
