import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { createRoleWorld, ORG, TEAM, type RoleWorld } from '../../../test/roles'
import type { ManualClock } from '../../lib/clock'

describeEachEngine('the audit log', (engine) => {
  let gateway: TestGateway
  let world: RoleWorld

  beforeAll(async () => {
    gateway = await startGateway(engine)
    world = await createRoleWorld(gateway)
  })
  afterAll(() => gateway.close())

  test('lists who changed what, when, from what to what: newest first, paged, filtered', async () => {
    ;(gateway.clock as ManualClock).advance(86_400_000)
    await gateway.call('POST', '/team/update', { body: { team_id: TEAM, max_budget: 7 } })
    const page = await gateway.call('GET', `/audit?table_name=teams&object_id=${TEAM}&action=updated&page_size=1`)
    expect(page.status).toBe(200)
    expect(page.body).toMatchObject({ page: 1, page_size: 1, total: 1, total_pages: 1 })
    const [row] = page.body.audit_logs
    expect(row).toMatchObject({
      changed_by: 'default_user_id',
      changed_by_api_key: null,
      action: 'updated',
      route: '/team/update',
      table_name: 'teams',
      object_id: TEAM,
      organization_id: ORG,
      updated_at: '2026-01-16T12:00:00.000000Z',
    })
    expect(row.before_value.maxBudget).toBeNull()
    expect(row.updated_values.maxBudget).toBe(7)
    const created = await gateway.call('GET', '/audit?action=created&table_name=teams')
    expect(created.body.audit_logs.map((r: any) => r.object_id).sort()).toEqual([TEAM, 'team-2'])
    const byActor = await gateway.call('GET', '/audit?changed_by=nobody')
    expect(byActor.body.total).toBe(0)
    const today = await gateway.call('GET', '/audit?start_date=2026-01-16&end_date=2026-01-16')
    expect(today.body.audit_logs.map((r: any) => r.route)).toEqual(['/team/update'])
    const bad = await gateway.call('GET', '/audit?start_date=2026-01-17&end_date=2026-01-16')
    expect(bad.status).toBe(400)
    expect((await gateway.call('GET', '/audit?action=exploded')).status).toBe(422)
  })

  test('keys appear only as hashes or sk-...wxyz and password hashes never appear', async () => {
    const key = (await gateway.call('POST', '/key/generate', { body: { key_alias: 'audited' } })).body
    await gateway.call('POST', '/user/update', { body: { user_id: 'member', password: 'correct horse battery' } })
    const rows = (await gateway.call('GET', '/audit?page_size=100')).body.audit_logs
    const text = JSON.stringify(rows)
    expect(text).not.toContain(key.key)
    expect(text).not.toContain('argon2')
    expect(text).not.toContain('correct horse')
    const keyRow = rows.find((r: any) => r.table_name === 'keys' && r.object_id === key.token)
    expect(keyRow.updated_values).toMatchObject({ token: key.token, keyName: key.key_name })
  })

  test("an org admin reads the rows of their organization's objects only; team admins and members none", async () => {
    await gateway.call('POST', '/team/update', { body: { team_id: 'team-2', team_alias: 'elsewhere' } })
    const scoped = await gateway.call('GET', '/audit?page_size=100', { key: world.keys['org-admin'] })
    expect(scoped.status).toBe(200)
    expect(scoped.body.total).toBeGreaterThan(0)
    expect(scoped.body.audit_logs.every((r: any) => r.organization_id === ORG)).toBe(true)
    expect(scoped.body.audit_logs.some((r: any) => r.object_id === 'team-2')).toBe(false)
    expect(scoped.body.audit_logs.some((r: any) => r.table_name === 'team_memberships' && r.object_id === `${TEAM}:member`)).toBe(true)
    const viewer = await gateway.call('GET', '/audit', { key: world.keys['team-admin'] })
    expect(viewer.body.error).toMatchObject({ code: 403, message: 'Admin-only endpoint. Not allowed to access this.' })
  })
})
