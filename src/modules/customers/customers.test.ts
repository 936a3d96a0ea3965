import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'

const DAY = 86_400_000

describeEachEngine('customers / end users', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock

  beforeAll(async () => {
    gateway = await startGateway(engine, { config: { model_list: [{ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } }] } })
    clock = gateway.clock as ManualClock
  })
  afterAll(() => gateway.close())

  test('a new customer with limits gets a budget row of its own; every field is stored and rendered', async () => {
    const now = clock.now()
    const created = await gateway.call('POST', '/customer/new', {
      body: {
        user_id: 'acme-user-1',
        alias: 'Acme 1',
        max_budget: 2,
        budget_duration: '1d',
        tpm_limit: 1000,
        rpm_limit: 10,
        max_parallel_requests: 2,
        soft_budget: 1,
        allowed_model_region: 'eu',
        default_model: 'gpt-4o',
        metadata: { plan: 'pro' },
      },
    })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      user_id: 'acme-user-1',
      alias: 'Acme 1',
      spend: 0,
      blocked: false,
      allowed_model_region: 'eu',
      default_model: 'gpt-4o',
      metadata: { plan: 'pro' },
      litellm_budget_table: { max_budget: 2, soft_budget: 1, tpm_limit: 1000, rpm_limit: 10, max_parallel_requests: 2, budget_duration: '1d' },
    })
    expect(created.body.litellm_budget_table.budget_reset_at).toBe(formatTimestamp(new Date(now + DAY)))
    expect(created.body.budget_id).toBe(created.body.litellm_budget_table.budget_id)
    expect((await gateway.audit('acme-user-1'))[0]).toMatchObject({ action: 'created', tableName: 'end_users', route: '/customer/new' })
    const plain = await gateway.call('POST', '/end_user/new', { body: { user_id: 'plain' } })
    expect(plain.body).toMatchObject({ user_id: 'plain', budget_id: null, litellm_budget_table: null, metadata: {} })
  })

  test('bad input answers with the contract messages and writes nothing', async () => {
    await gateway.call('POST', '/budget/new', { body: { budget_id: 'tier', max_budget: 50 } })
    const auditBefore = await gateway.auditCount()
    const both = await gateway.call('POST', '/customer/new', { body: { user_id: 'x', max_budget: 1, budget_id: 'tier' } })
    expect(both.body.error).toEqual({ message: "Set either 'max_budget' or 'budget_id', not both.", type: 'bad_request_error', param: 'max_budget', code: 400 })
    const duplicate = await gateway.call('POST', '/customer/new', { body: { user_id: 'acme-user-1' } })
    expect(duplicate.body.error).toEqual({
      message: 'Customer already exists, passed user_id=acme-user-1. Please pass a new user_id.',
      type: 'bad_request_error',
      param: 'user_id',
      code: 400,
    })
    const model = await gateway.call('POST', '/customer/new', { body: { user_id: 'x', default_model: 'gpt-5' } })
    expect(model.body.error).toMatchObject({ code: 400, message: 'Default Model not on proxy: gpt-5' })
    const tier = await gateway.call('POST', '/customer/new', { body: { user_id: 'x', budget_id: 'nope' } })
    expect(tier.body.error).toMatchObject({ code: 404, message: "Budget with id 'nope' not found." })
    expect((await gateway.call('POST', '/customer/new', { body: { user_id: 'x', allowed_model_region: 'mars' } })).status).toBe(422)
    expect((await gateway.call('POST', '/customer/new', { body: { user_id: 'x', max_budget: -2 } })).status).toBe(400)
    expect((await gateway.call('POST', '/customer/new', { body: { alias: 'no id' } })).body.error.message).toBe('user_id: field required')
    expect(await gateway.store.repos.endUsers.get('x')).toBeNull()
    expect((await gateway.store.repos.budgets.list()).length).toBe(2)
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('info and list; a missing one is the contract 404', async () => {
    const info = await gateway.call('GET', '/customer/info?end_user_id=acme-user-1')
    expect(info.body).toMatchObject({ user_id: 'acme-user-1', litellm_budget_table: { max_budget: 2 } })
    expect((await gateway.call('GET', '/end_user/info?end_user_id=plain')).body.user_id).toBe('plain')
    const missing = await gateway.call('GET', '/customer/info?end_user_id=ghost')
    expect(missing.body.error).toEqual({ message: 'End User Id=ghost does not exist in db', type: 'not_found_error', param: 'user_id', code: 404 })
    const list = await gateway.call('GET', '/customer/list')
    expect(list.body.map((c: any) => c.user_id)).toEqual(['acme-user-1', 'plain'])
    expect(list.body[0].litellm_budget_table.max_budget).toBe(2)
  })

  test('update: budget fields change the linked row, a new window restarts spend, budget_id re-links, the cache sees it', async () => {
    const budgetId = (await gateway.store.repos.endUsers.get('acme-user-1'))!.budgetId!
    await gateway.store.repos.endUsers.addSpend('acme-user-1', 1.5)
    expect((await gateway.context.caches.endUsers.get('acme-user-1'))!.alias).toBe('Acme 1')
    clock.advance(5000)
    const updated = await gateway.call('POST', '/customer/update', { body: { user_id: 'acme-user-1', alias: 'Acme One', max_budget: 3, budget_duration: '1w', tpm_limit: null } })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({
      alias: 'Acme One',
      spend: 0,
      budget_id: budgetId,
      litellm_budget_table: { max_budget: 3, tpm_limit: null, rpm_limit: 10, budget_reset_at: formatTimestamp(new Date(clock.now() + 7 * DAY)) },
    })
    expect((await gateway.context.caches.endUsers.get('acme-user-1'))!.alias).toBe('Acme One')
    expect((await gateway.context.caches.budgets.get(budgetId))!.maxBudget).toBe(3)

    const own = await gateway.call('POST', '/customer/update', { body: { user_id: 'plain', rpm_limit: 5 } })
    expect(own.body.litellm_budget_table).toMatchObject({ rpm_limit: 5 })
    const relinked = await gateway.call('POST', '/end_user/update', { body: { user_id: 'plain', budget_id: 'tier', metadata: { a: 1 } } })
    expect(relinked.body).toMatchObject({ budget_id: 'tier', litellm_budget_table: { max_budget: 50 }, metadata: { a: 1 } })
    const unlinked = await gateway.call('POST', '/customer/update', { body: { user_id: 'plain', budget_id: null } })
    expect(unlinked.body).toMatchObject({ budget_id: null, litellm_budget_table: null })
    const missing = await gateway.call('POST', '/customer/update', { body: { user_id: 'ghost', alias: 'x' } })
    expect(missing.body.error).toMatchObject({ code: 404, message: 'End User Id=ghost does not exist in db' })
    expect(await gateway.store.repos.endUsers.get('ghost')).toBeNull()
    const [row] = await gateway.audit('acme-user-1', 'updated')
    expect(row.beforeValue).toMatchObject({ alias: 'Acme 1', spend: 1.5 })
  })

  test('block and unblock: block creates customers not seen yet; unblock is all or nothing', async () => {
    await gateway.context.caches.endUsers.get('plain')
    const blocked = await gateway.call('POST', '/customer/block', { body: { user_ids: ['plain', 'unseen'] } })
    expect(blocked.body).toEqual({ blocked_users: ['plain', 'unseen'] })
    expect((await gateway.context.caches.endUsers.get('plain'))!.blocked).toBe(true)
    expect((await gateway.store.repos.endUsers.get('unseen'))!.blocked).toBe(true)
    expect((await gateway.audit('plain', 'blocked'))[0]).toMatchObject({ tableName: 'end_users', route: '/customer/block' })

    const refused = await gateway.call('POST', '/end_user/unblock', { body: { user_ids: ['plain', 'ghost'] } })
    expect(refused.body.error).toMatchObject({ code: 404, message: 'End User Id(s)=ghost do not exist in db' })
    expect((await gateway.store.repos.endUsers.get('plain'))!.blocked).toBe(true)
    const unblocked = await gateway.call('POST', '/customer/unblock', { body: { user_ids: ['plain'] } })
    expect(unblocked.body).toEqual({ unblocked_users: ['plain'] })
    expect((await gateway.context.caches.endUsers.get('plain'))!.blocked).toBe(false)
  })

  test('delete: all or nothing with the missing ids named, then the message LiteLLM sends', async () => {
    const refused = await gateway.call('POST', '/customer/delete', { body: { user_ids: ['plain', 'a', 'b'] } })
    expect(refused.body.error).toEqual({ message: 'End User Id(s)=a, b do not exist in db', type: 'not_found_error', param: 'user_ids', code: 404 })
    expect(await gateway.store.repos.endUsers.get('plain')).not.toBeNull()
    const deleted = await gateway.call('POST', '/end_user/delete', { body: { user_ids: ['plain', 'unseen'] } })
    expect(deleted.body).toEqual({ deleted_customers: 2, message: "Successfully deleted customers with ids: ['plain', 'unseen']" })
    expect(await gateway.store.repos.endUsers.get('plain')).toBeNull()
    expect(await gateway.context.caches.endUsers.get('unseen')).toBeNull()
    expect((await gateway.audit('plain', 'deleted'))[0].beforeValue).toMatchObject({ userId: 'plain' })
    // The shared tier it was linked to stays.
    expect(await gateway.store.repos.budgets.get('tier')).not.toBeNull()
  })
})
