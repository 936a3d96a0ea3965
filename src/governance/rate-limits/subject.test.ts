import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { startGateway, type TestGateway } from '../../../test/gateway'
import { limitLevels, loadLimitSnapshots, requestLimitLevels } from './subject'

describeEachEngine('which rate limits apply to a request', (engine) => {
  let gateway: TestGateway
  beforeAll(async () => {
    gateway = await startGateway(engine, { config: { general_settings: { max_parallel_requests: 7 } } })
  })
  afterAll(() => gateway.close())

  test('every level, from the principal and the budget rows in the caches, in the contract order', async () => {
    const { repos } = gateway.store
    await repos.budgets.insert({ budgetId: 'member-defaults', rpmLimit: 1, tpmLimit: 1000 })
    await repos.budgets.insert({ budgetId: 'alice-row', rpmLimit: 3 })
    await repos.budgets.insert({ budgetId: 'org-row', tpmLimit: 50_000 })
    await repos.budgets.insert({ budgetId: 'customer-row', rpmLimit: 9 })
    await repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: 'org-row', models: [], metadata: {} })
    await repos.endUsers.insert({ userId: 'customer-1', budgetId: 'customer-row', metadata: {} })
    const team = await insertTeam(repos, { organizationId: 'org-1', rpmLimit: 100, maxParallelRequests: 4, teamMemberBudgetId: 'member-defaults' })
    const alice = await insertUser(repos, { rpmLimit: 50 })
    await repos.memberships.insert({ teamId: team.teamId, userId: alice.userId, role: 'user', budgetId: 'alice-row' })
    const { key } = await insertKey(repos, {
      teamId: team.teamId,
      userId: alice.userId,
      rpmLimit: 10,
      metadata: { model_rpm_limit: { 'gpt-4o': 2 }, model_tpm_limit: { 'gpt-4o': 500, other: -1 } },
    })

    const principal = await gateway.context.authenticator.authenticate(new Headers({ authorization: `Bearer ${key}` }))
    const levels = await requestLimitLevels(gateway.context, principal, { model: 'gpt-4o', endUserId: 'customer-1' })
    const hash = principal.keyHash
    expect(levels).toEqual([
      { level: 'api_key', id: hash!, rpm: 10, tpm: null, maxParallel: 7 },
      { level: 'model_per_key', id: `${hash}:gpt-4o`, rpm: 2, tpm: 500, maxParallel: null },
      { level: 'team', id: team.teamId, rpm: 100, tpm: null, maxParallel: 4 },
      // The member row sets rpm; tpm comes from the team's default member row.
      { level: 'team_member', id: `${team.teamId}:${alice.userId}`, rpm: 3, tpm: 1000, maxParallel: null },
      { level: 'user', id: alice.userId, rpm: 50, tpm: null, maxParallel: null },
      { level: 'end_user', id: 'customer-1', rpm: 9, tpm: null, maxParallel: null },
      { level: 'organization', id: 'org-1', rpm: null, tpm: 50_000, maxParallel: null },
    ])

    // Another model of the same key has no per-model limit, so no such level (and no header for it).
    const other = limitLevels(await loadLimitSnapshots(gateway.context.caches, principal, { model: 'other', endUserId: null }), { keyMaxParallel: null })
    expect(other.map((level) => level.level)).toEqual(['api_key', 'team', 'team_member', 'user', 'organization'])
  })

  test('nothing configured anywhere: no levels at all', async () => {
    const { key } = await insertKey(gateway.store.repos)
    const principal = await gateway.context.authenticator.authenticate(new Headers({ authorization: `Bearer ${key}` }))
    const snapshots = await loadLimitSnapshots(gateway.context.caches, principal, { model: 'gpt-4o', endUserId: 'nobody' })
    expect(limitLevels(snapshots, { keyMaxParallel: null })).toEqual([])
    const admin = await gateway.context.authenticator.authenticate(new Headers({ authorization: `Bearer ${gateway.context.settings.masterKey}` }))
    expect(limitLevels(await loadLimitSnapshots(gateway.context.caches, admin, { model: null, endUserId: null }), { keyMaxParallel: 7 })).toEqual([])
  })
})
