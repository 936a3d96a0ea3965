import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import type { ManualClock } from '../../lib/clock'
import { formatTimestamp } from '../../lib/time'

const DAY = 86_400_000

describeEachEngine('tags', (engine) => {
  let gateway: TestGateway
  let clock: ManualClock

  beforeAll(async () => {
    gateway = await startGateway(engine)
    clock = gateway.clock as ManualClock
  })
  afterAll(() => gateway.close())

  test('a new tag with a budget gets its own budget row; one without has none', async () => {
    const now = clock.now()
    const created = await gateway.call('POST', '/tag/new', {
      body: { name: 'prod', description: 'production traffic', models: ['gpt-4o'], max_budget: 10, soft_budget: 8, budget_duration: '1d' },
    })
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({
      name: 'prod',
      description: 'production traffic',
      models: ['gpt-4o'],
      spend: 0,
      litellm_budget_table: { max_budget: 10, soft_budget: 8, budget_duration: '1d', budget_reset_at: formatTimestamp(new Date(now + DAY)) },
    })
    expect((await gateway.audit('prod'))[0]).toMatchObject({ action: 'created', tableName: 'tags', route: '/tag/new' })
    const plain = await gateway.call('POST', '/tag/new', { body: { name: 'dev' } })
    expect(plain.body).toMatchObject({ name: 'dev', description: null, models: [], budget_id: null, litellm_budget_table: null })
  })

  test('bad input: duplicates, unknown tags, money, durations and fields outside the contract', async () => {
    const auditBefore = await gateway.auditCount()
    const duplicate = await gateway.call('POST', '/tag/new', { body: { name: 'prod' } })
    expect(duplicate.body.error).toEqual({ message: 'Tag prod already exists', type: 'bad_request_error', param: 'name', code: 400 })
    const missing = await gateway.call('POST', '/tag/update', { body: { name: 'ghost', description: 'x' } })
    expect(missing.body.error).toEqual({ message: 'Tag ghost not found', type: 'not_found_error', param: 'name', code: 404 })
    expect((await gateway.call('POST', '/tag/new', { body: { name: 'x', max_budget: -1 } })).status).toBe(400)
    expect((await gateway.call('POST', '/tag/new', { body: { name: 'x', budget_duration: 'daily' } })).status).toBe(400)
    expect((await gateway.call('POST', '/tag/new', { body: { name: 'x', tpm_limit: 5 } })).status).toBe(422)
    expect((await gateway.call('POST', '/tag/new', { body: { name: '' } })).status).toBe(422)
    expect(await gateway.store.repos.tags.get('x')).toBeNull()
    expect(await gateway.auditCount()).toBe(auditBefore)
  })

  test('update: budget fields update the row (created when missing), a new window restarts spend, the cache sees it', async () => {
    await gateway.store.repos.tags.addSpend('prod', 4)
    expect((await gateway.context.caches.tags.get('prod'))!.description).toBe('production traffic')
    clock.advance(1000)
    const updated = await gateway.call('POST', '/tag/update', { body: { name: 'prod', description: null, budget_duration: '1w', max_budget: 12 } })
    expect(updated.body).toMatchObject({
      description: null,
      spend: 0,
      litellm_budget_table: { max_budget: 12, budget_reset_at: formatTimestamp(new Date(clock.now() + 7 * DAY)) },
    })
    expect((await gateway.context.caches.tags.get('prod'))!.description).toBeNull()
    const [audited] = await gateway.audit('prod', 'updated')
    expect(audited).toMatchObject({ route: '/tag/update', beforeValue: expect.objectContaining({ description: 'production traffic', spend: 4 }), updatedValues: expect.objectContaining({ description: null, spend: 0 }) })
    const budgeted = await gateway.call('POST', '/tag/update', { body: { name: 'dev', max_budget: 1 } })
    expect(budgeted.body.litellm_budget_table).toMatchObject({ max_budget: 1 })
    // Clearing every limit removes the tag's own row.
    const budgetId = budgeted.body.budget_id
    const cleared = await gateway.call('POST', '/tag/update', { body: { name: 'dev', max_budget: null } })
    expect(cleared.body).toMatchObject({ budget_id: null, litellm_budget_table: null })
    expect(await gateway.store.repos.budgets.get(budgetId)).toBeNull()
  })

  test('info by names, list, and delete with the tag budget row', async () => {
    const info = await gateway.call('POST', '/tag/info', { body: { names: ['prod', 'nope'] } })
    expect(Object.keys(info.body)).toEqual(['prod'])
    expect(info.body.prod).toMatchObject({ name: 'prod', litellm_budget_table: { max_budget: 12 } })
    const list = await gateway.call('GET', '/tag/list')
    expect(list.body.map((t: any) => t.name)).toEqual(['dev', 'prod'])
    const budgetId = info.body.prod.budget_id
    const deleted = await gateway.call('POST', '/tag/delete', { body: { name: 'prod' } })
    expect(deleted.body).toEqual({ message: 'Tag prod deleted successfully' })
    expect(await gateway.store.repos.tags.get('prod')).toBeNull()
    expect(await gateway.store.repos.budgets.get(budgetId)).toBeNull()
    expect(await gateway.context.caches.tags.get('prod')).toBeNull()
    expect((await gateway.audit('prod', 'deleted'))[0]).toMatchObject({ tableName: 'tags' })
    expect((await gateway.audit(budgetId, 'deleted'))[0]).toMatchObject({ tableName: 'budgets' })
    expect((await gateway.call('POST', '/tag/delete', { body: { name: 'prod' } })).status).toBe(404)
  })
})
