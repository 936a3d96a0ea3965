/**
 * One suite, run against libSQL and Postgres: every repository method behaves the same on both engines.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { KeyRow, SpendLogRow } from '../src/db/ports'
import type * as pg from '../src/db/pg/schema'
import type * as sqlite from '../src/db/sqlite/schema'
import { describeEachEngine } from './engines'
import { openTestStore, type TestStore } from './database'

// Compile-time: both schemas give every table the same row type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Tables = keyof typeof pg & keyof typeof sqlite
const rowTypesMatch: { [T in Tables]: Same<(typeof pg)[T]['$inferSelect'], (typeof sqlite)[T]['$inferSelect']> } = {
  teams: true,
  teamMemberships: true,
  keys: true,
  deletedKeys: true,
  deletedTeams: true,
  keyRotations: true,
  users: true,
  organizations: true,
  organizationMemberships: true,
  budgets: true,
  endUsers: true,
  tags: true,
  spendLogs: true,
  dailySpend: true,
  auditLog: true,
  settings: true,
  jobLeases: true,
  settledRequests: true,
}

function keyRow(token: string, overrides: Partial<KeyRow> = {}) {
  return {
    token,
    keyName: `sk-...${token.slice(-4)}`,
    models: [],
    aliases: {},
    metadata: {},
    allowedRoutes: [],
    modelMaxBudget: {},
    modelSpend: {},
    ...overrides,
  }
}

function spendLog(requestId: string, overrides: Partial<SpendLogRow> = {}): SpendLogRow {
  const at = new Date('2026-01-15T12:00:00.000Z')
  return {
    requestId,
    responseId: `chatcmpl-${requestId}`,
    callType: 'acompletion',
    apiKey: 'a'.repeat(64),
    spend: 0.5,
    promptTokens: 10,
    completionTokens: 20,
    totalTokens: 30,
    startTime: at,
    endTime: at,
    completionStartTime: null,
    model: 'gpt-4o',
    modelGroup: 'gpt-4o',
    modelId: 'dep-1',
    provider: 'openai',
    userId: null,
    teamId: 'team-1',
    organizationId: null,
    endUser: null,
    requestTags: ['a'],
    status: 'success',
    usageEstimated: false,
    metadata: { x: 1 },
    requesterIpAddress: null,
    ...overrides,
  }
}

describeEachEngine('repository contract', (engine) => {
  let store: TestStore
  beforeAll(async () => {
    store = await openTestStore(engine)
  })
  afterAll(async () => {
    await store.close()
  })

  test('both schemas have the same row types', () => {
    expect(Object.values(rowTypesMatch).every(Boolean)).toBe(true)
  })

  test('migrations are idempotent', async () => {
    expect(await store.database.migrate()).toEqual([])
  })

  test('teams: insert fills lifecycle columns, get returns the same values and types', async () => {
    const { repos, clock } = store
    const created = await repos.teams.insert({
      teamId: 'team-1',
      teamAlias: 'QA Prod Bot',
      metadata: { tags: ['x'], nested: { a: 1 } },
      models: ['gpt-4o'],
      maxBudget: 1e-9,
      budgetDuration: '1d',
      budgetResetAt: new Date(clock.now() + 86_400_000),
      tpmLimit: 100,
      teamMemberPermissions: ['/key/info'],
      createdBy: 'admin',
    })
    expect(created.version).toBe(1)
    expect(created.createdAt.getTime()).toBe(clock.now())
    expect(created.spend).toBe(0)
    expect(created.blocked).toBe(false)
    const read = await store.repos.teams.get('team-1')
    expect(read).toEqual(created)
    expect(read!.maxBudget).toBe(1e-9)
    expect(read!.tpmLimit).toBe(100)
    expect(read!.metadata).toEqual({ tags: ['x'], nested: { a: 1 } })
    expect(await repos.teams.get('missing')).toBeNull()
  })

  test('teams: update applies a partial patch and bumps the version', async () => {
    store.clock.advance(1000)
    const updated = await store.repos.teams.update('team-1', { tpmLimit: 5, teamAlias: null, updatedBy: 'someone' })
    expect(updated!.tpmLimit).toBe(5)
    expect(updated!.teamAlias).toBeNull()
    expect(updated!.maxBudget).toBe(1e-9)
    expect(updated!.version).toBe(2)
    expect(updated!.updatedAt.getTime()).toBe(store.clock.now())
    expect(await store.repos.teams.update('missing', { tpmLimit: 1 })).toBeNull()
  })

  test('spend increments are atomic sums that keep full double precision', async () => {
    await Promise.all([store.repos.teams.addSpend('team-1', 3.5e-6), store.repos.teams.addSpend('team-1', 1.5e-6)])
    expect((await store.repos.teams.get('team-1'))!.spend).toBe(3.5e-6 + 1.5e-6)
  })

  test('ordered spend folds add amounts one after another, skip missing rows and survive chunking', async () => {
    const { repos } = store
    await repos.teams.insert({ teamId: 'fold-b', metadata: {}, models: [], teamMemberPermissions: [] })
    await repos.teams.insert({ teamId: 'fold-a', metadata: {}, models: [], teamMemberPermissions: [] })
    await repos.teams.addSpend('fold-a', 0.1)
    // 450 amounts for one id: more than one statement (and round) of the fold.
    const many = Array.from({ length: 450 }, (_, i) => (i % 7) * 1.1e-7 + 3.3e-9)
    await repos.teams.addSpendInOrder([
      { id: 'fold-b', amounts: many },
      { id: 'fold-a', amounts: [0.2, 0.3] },
      { id: 'no-such-team', amounts: [1] },
    ])
    expect((await repos.teams.get('fold-a'))!.spend).toBe(0.1 + 0.2 + 0.3)
    expect((await repos.teams.get('fold-b'))!.spend).toBe(many.reduce((sum, x) => sum + x, 0))
    expect(await repos.teams.get('no-such-team')).toBeNull()
    await repos.teams.delete('fold-a')
    await repos.teams.delete('fold-b')
  })

  test('teams: list filters by organization, alias, ids and member, and counts', async () => {
    const { repos } = store
    await repos.teams.insert({ teamId: 'team-2', teamAlias: 'Alpha', organizationId: 'org-1', metadata: {}, models: [], teamMemberPermissions: [] })
    await repos.teams.insert({ teamId: 'team-3', teamAlias: 'beta', metadata: {}, models: [], teamMemberPermissions: [] })
    await repos.memberships.insert({ userId: 'u1', teamId: 'team-3', role: 'admin' })
    expect((await repos.teams.list({})).total).toBe(3)
    expect((await repos.teams.list({ organizationId: 'org-1' })).rows.map((r) => r.teamId)).toEqual(['team-2'])
    expect((await repos.teams.list({ organizationId: null })).rows.map((r) => r.teamId).sort()).toEqual(['team-1', 'team-3'])
    expect((await repos.teams.list({ teamAlias: 'ALP' })).rows.map((r) => r.teamId)).toEqual(['team-2'])
    expect((await repos.teams.list({ userId: 'u1' })).rows.map((r) => r.teamId)).toEqual(['team-3'])
    expect((await repos.teams.list({ teamIds: [] })).total).toBe(0)
    const page = await repos.teams.list({}, { offset: 1, limit: 1 })
    expect(page.rows).toHaveLength(1)
    expect(page.total).toBe(3)
  })

  test('budget windows: due rows are found and a window resets once (compare-and-set)', async () => {
    const { repos, clock } = store
    const team = (await repos.teams.get('team-1'))!
    const due = new Date(clock.now() + 86_400_000)
    expect((await repos.teams.dueForReset(new Date(clock.now()), 10)).map((r) => r.teamId)).toEqual([])
    expect((await repos.teams.dueForReset(due, 10)).map((r) => r.teamId)).toEqual(['team-1'])
    const next = new Date(due.getTime() + 86_400_000)
    const [first, second] = await Promise.all([
      repos.teams.resetWindow('team-1', team.budgetResetAt!, next),
      repos.teams.resetWindow('team-1', team.budgetResetAt!, next),
    ])
    expect([first, second].filter(Boolean)).toHaveLength(1)
    const after = (await repos.teams.get('team-1'))!
    expect(after.spend).toBe(0)
    expect(after.budgetResetAt!.getTime()).toBe(next.getTime())
  })

  test('memberships: composite ids, listing, spend, reset and cascades', async () => {
    const { repos } = store
    await repos.memberships.insert({ userId: 'u2', teamId: 'team-3', role: 'user', budgetId: 'b-1' })
    await repos.memberships.insert({ userId: 'u2', teamId: 'team-2', role: 'user' })
    expect((await repos.memberships.listByTeam('team-3')).map((m) => m.userId).sort()).toEqual(['u1', 'u2'])
    expect((await repos.memberships.listByUser('u2')).map((m) => m.teamId).sort()).toEqual(['team-2', 'team-3'])
    const updated = await repos.memberships.update({ userId: 'u2', teamId: 'team-3' }, { role: 'admin' })
    expect(updated!.role).toBe('admin')
    expect(updated!.version).toBe(2)
    await repos.memberships.addSpend({ userId: 'u2', teamId: 'team-3' }, 0.25)
    expect((await repos.memberships.get({ userId: 'u2', teamId: 'team-3' }))!.spend).toBe(0.25)
    await repos.memberships.addSpendInOrder([
      { id: { userId: 'u2', teamId: 'team-3' }, amounts: [0.5, 1e-9] },
      { id: { userId: 'u2', teamId: 'team-2' }, amounts: [2] },
    ])
    expect((await repos.memberships.get({ userId: 'u2', teamId: 'team-3' }))!.spend).toBe(0.25 + 0.5 + 1e-9)
    expect((await repos.memberships.get({ userId: 'u2', teamId: 'team-2' }))!.spend).toBe(2)
    await repos.memberships.resetSpend({ userId: 'u2', teamId: 'team-3' })
    expect((await repos.memberships.get({ userId: 'u2', teamId: 'team-3' }))!.spend).toBe(0)
    expect((await repos.memberships.deleteByUser('u2')).length).toBe(2)
    expect(await repos.memberships.delete({ userId: 'u1', teamId: 'team-3' })).not.toBeNull()
    expect(await repos.memberships.get({ userId: 'u1', teamId: 'team-3' })).toBeNull()
    await repos.memberships.insert({ userId: 'u9', teamId: 'team-9', role: 'user' })
    await repos.memberships.insert({ userId: 'u8', teamId: 'team-8', role: 'admin' })
    expect((await repos.memberships.listByTeams(['team-9', 'team-8', 'nope'])).map((m) => m.userId).sort()).toEqual(['u8', 'u9'])
    expect(await repos.memberships.listByTeams([])).toEqual([])
    expect((await repos.memberships.deleteByTeam('team-9')).map((m) => m.userId)).toEqual(['u9'])
    await repos.memberships.deleteByTeam('team-8')
  })

  test('keys: alias uniqueness is enforced by the database', async () => {
    const { repos, database } = store
    await repos.keys.insert(keyRow('a'.repeat(64), { keyAlias: 'alias-1', teamId: 'team-1', userId: 'u1' }))
    await repos.keys.insert(keyRow('b'.repeat(64), { teamId: 'team-1' }))
    await repos.keys.insert(keyRow('c'.repeat(64), { userId: 'u1' }))
    const duplicate = await repos.keys.insert(keyRow('d'.repeat(64), { keyAlias: 'alias-1' })).catch((e) => e)
    expect(database.dialect.isUniqueViolation(duplicate)).toBe(true)
    expect((await repos.keys.getByAlias('alias-1'))!.token).toBe('a'.repeat(64))
  })

  test('keys: listing by team and user, filters, sorting and paging', async () => {
    const { repos } = store
    expect((await repos.keys.listByTeam('team-1')).length).toBe(2)
    expect((await repos.keys.listByUser('u1')).length).toBe(2)
    await repos.keys.addSpend('b'.repeat(64), 2)
    const bySpend = await repos.keys.list({}, { offset: 0, limit: 10 }, { by: 'spend', order: 'desc' })
    expect(bySpend.rows[0].token).toBe('b'.repeat(64))
    expect(bySpend.total).toBe(3)
    const visible = await repos.keys.list({ visibleTo: { userIds: [], teamIds: ['team-1'] } }, { offset: 0, limit: 10 })
    expect(visible.total).toBe(2)
    await repos.keys.update('c'.repeat(64), { organizationId: 'org-9' })
    const ofOrganization = await repos.keys.list({ visibleTo: { userIds: [], teamIds: [], organizationIds: ['org-9'] } }, { offset: 0, limit: 10 })
    expect(ofOrganization.rows.map((r) => r.token)).toEqual(['c'.repeat(64)])
    expect((await repos.keys.list({ visibleTo: { userIds: [], teamIds: [] } }, { offset: 0, limit: 10 })).total).toBe(0)
    const paged = await repos.keys.list({ userId: 'u1' }, { offset: 1, limit: 1 })
    expect(paged.rows).toHaveLength(1)
    expect(paged.total).toBe(2)
    expect((await repos.keys.list({ keyAlias: 'alias-1' }, { offset: 0, limit: 10 })).total).toBe(1)
    expect((await repos.keys.list({ tokens: [] }, { offset: 0, limit: 10 })).total).toBe(0)
  })

  test('keys: aliases are listed alphabetically, searched case-insensitively and paged', async () => {
    const { repos } = store
    await repos.keys.insert(keyRow('9'.repeat(64), { keyAlias: 'beta_%key' }))
    expect(await repos.keys.listAliases(undefined, { offset: 0, limit: 10 })).toEqual({ rows: ['alias-1', 'beta_%key'], total: 2 })
    expect(await repos.keys.listAliases('_%K', { offset: 0, limit: 10 })).toEqual({ rows: ['beta_%key'], total: 1 })
    expect(await repos.keys.listAliases('ALIAS', { offset: 0, limit: 10 })).toEqual({ rows: ['alias-1'], total: 1 })
    expect(await repos.keys.listAliases(undefined, { offset: 1, limit: 1 })).toEqual({ rows: ['beta_%key'], total: 2 })
    await repos.keys.delete('9'.repeat(64))
  })

  test('keys: model spend, token change (rotation) and rotation records', async () => {
    const { repos, clock } = store
    await repos.keys.addModelSpend('a'.repeat(64), 'gpt-4o', 0.5)
    await repos.keys.addModelSpend('a'.repeat(64), 'gpt-4o', 0.25)
    expect((await repos.keys.get('a'.repeat(64)))!.modelSpend).toEqual({ 'gpt-4o': 0.75 })
    await repos.keys.addModelSpendInOrder([
      { token: 'a'.repeat(64), model: 'gpt-4o', amounts: [0.1, 0.2] },
      { token: 'a'.repeat(64), model: 'llama', amounts: [1] },
      { token: 'z'.repeat(64), model: 'gpt-4o', amounts: [5] },
    ])
    expect((await repos.keys.get('a'.repeat(64)))!.modelSpend).toEqual({ 'gpt-4o': 0.75 + 0.1 + 0.2, llama: 1 })
    await repos.keys.update('a'.repeat(64), { modelSpend: { 'gpt-4o': 0.75 } })
    expect(await repos.keys.zeroAllSpend()).toBe(3)
    expect((await repos.keys.get('a'.repeat(64)))!).toMatchObject({ spend: 0, modelSpend: {} })
    expect(await repos.teams.zeroAllSpend()).toBeGreaterThan(0)
    expect((await repos.teams.list({})).rows.every((team) => team.spend === 0)).toBe(true)
    // Back to the state the next tests expect.
    await repos.keys.update('a'.repeat(64), { modelSpend: { 'gpt-4o': 0.75 } })
    await repos.keys.addSpend('b'.repeat(64), 2)
    const rotated = await repos.keys.changeToken('a'.repeat(64), 'e'.repeat(64), 'sk-...eeee')
    expect(rotated!.token).toBe('e'.repeat(64))
    expect(rotated!.modelSpend).toEqual({ 'gpt-4o': 0.75 })
    expect(await repos.keys.get('a'.repeat(64))).toBeNull()
    const revokeAt = new Date(clock.now() + 60_000)
    await repos.keyRotations.insert({ oldToken: 'a'.repeat(64), token: 'e'.repeat(64), revokeAt, createdAt: new Date(clock.now()) })
    expect((await repos.keyRotations.get('a'.repeat(64)))!.revokeAt.getTime()).toBe(revokeAt.getTime())
    expect(await repos.keyRotations.deleteExpired(new Date(clock.now()))).toBe(0)
    expect(await repos.keyRotations.deleteExpired(revokeAt)).toBe(1)
    await repos.keyRotations.insert({ oldToken: 'f'.repeat(64), token: 'e'.repeat(64), revokeAt, createdAt: revokeAt })
    expect((await repos.keyRotations.listByToken('e'.repeat(64))).map((r) => r.oldToken)).toEqual(['f'.repeat(64)])
    expect(await repos.keyRotations.listByToken('a'.repeat(64))).toEqual([])
    await repos.keyRotations.deleteByToken('e'.repeat(64))
    expect(await repos.keyRotations.get('f'.repeat(64))).toBeNull()
  })

  test('archive: deleted keys and teams keep their data', async () => {
    const { repos, clock } = store
    const key = (await repos.keys.get('b'.repeat(64)))!
    const team = (await repos.teams.get('team-2'))!
    await repos.archive.archiveKeys([key], { deletedAt: new Date(clock.now()), deletedBy: 'admin' })
    await repos.archive.archiveTeam(team, { deletedAt: new Date(clock.now()), deletedBy: 'admin' })
    const [archivedKey] = await repos.archive.deletedKeys({ teamId: 'team-1' })
    expect(archivedKey.token).toBe('b'.repeat(64))
    expect(archivedKey.data.spend).toBe(2)
    expect(archivedKey.deletedBy).toBe('admin')
    expect((await repos.archive.deletedTeams('team-2'))[0].data.teamAlias).toBe('Alpha')
  })

  test('a failed transaction writes nothing', async () => {
    const { repos } = store
    const failure = await repos
      .transaction(async (tx) => {
        await tx.teams.insert({ teamId: 'tx-team', metadata: {}, models: [], teamMemberPermissions: [] })
        await tx.audit.record({ changedBy: 'x', action: 'created', tableName: 'teams', objectId: 'tx-team', changedByApiKey: null, route: null, beforeValue: null, updatedValues: null })
        throw new Error('boom')
      })
      .catch((e) => e)
    expect(failure.message).toBe('boom')
    expect(await repos.teams.get('tx-team')).toBeNull()
    expect((await repos.audit.list({ objectId: 'tx-team' }, { offset: 0, limit: 10 })).total).toBe(0)
    const value = await repos.transaction(async (tx) => {
      await tx.teams.insert({ teamId: 'tx-team', metadata: {}, models: [], teamMemberPermissions: [] })
      return 42
    })
    expect(value).toBe(42)
    expect(await repos.teams.get('tx-team')).not.toBeNull()
  })

  test('users: case-insensitive unique email, lookups, filters and sorting', async () => {
    const { repos, database } = store
    await repos.users.insert({ userId: 'u1', userEmail: 'Ann@Example.com', userRole: 'internal_user', models: [], metadata: {} })
    await repos.users.insert({ userId: 'u2', userEmail: 'bob@example.com', userRole: 'proxy_admin', models: [], metadata: {}, spend: 0 })
    await repos.users.insert({ userId: 'u3', userEmail: null, userRole: 'internal_user', models: [], metadata: {} })
    await repos.users.insert({ userId: 'u4', userEmail: null, userRole: 'internal_user', models: [], metadata: {} })
    const duplicate = await repos.users
      .insert({ userId: 'u5', userEmail: 'ann@example.COM', userRole: 'internal_user', models: [], metadata: {} })
      .catch((e) => e)
    expect(database.dialect.isUniqueViolation(duplicate)).toBe(true)
    expect((await repos.users.findByEmail('ANN@example.com')).map((u) => u.userId)).toEqual(['u1'])
    await repos.users.addSpend('u2', 1.25)
    expect((await repos.users.list({ role: 'internal_user' }, { offset: 0, limit: 10 })).total).toBe(3)
    expect((await repos.users.list({ emailContains: 'EXAMPLE' }, { offset: 0, limit: 10 })).total).toBe(2)
    expect((await repos.users.list({}, { offset: 0, limit: 1 }, { by: 'spend', order: 'desc' })).rows[0].userId).toBe('u2')
    await repos.memberships.insert({ userId: 'u3', teamId: 'team-1', role: 'user' })
    expect((await repos.users.list({ teamId: 'team-1' }, { offset: 0, limit: 10 })).rows.map((u) => u.userId)).toEqual(['u3'])
    await repos.organizationMemberships.insert({ userId: 'u4', organizationId: 'org-1', userRole: 'org_admin' })
    expect((await repos.users.list({ organizationIds: ['org-1'] }, { offset: 0, limit: 10 })).rows.map((u) => u.userId)).toEqual(['u4'])
    expect((await repos.users.list({ userIds: ['u1', 'u2'] }, { offset: 0, limit: 10 })).total).toBe(2)
  })

  test('organizations and their memberships', async () => {
    const { repos } = store
    await repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: 'b-org', models: [], metadata: {} })
    await repos.organizations.addSpend('org-1', 0.5)
    expect((await repos.organizations.get('org-1'))!.spend).toBe(0.5)
    expect((await repos.organizations.list({})).map((o) => o.organizationId)).toEqual(['org-1'])
    expect(await repos.organizations.list({ organizationIds: [] })).toEqual([])
    expect(await repos.organizations.countByBudget('b-org')).toBe(1)
    const membership = await repos.organizationMemberships.update({ userId: 'u4', organizationId: 'org-1' }, { userRole: 'internal_user' })
    expect(membership!.userRole).toBe('internal_user')
    await repos.organizationMemberships.addSpend({ userId: 'u4', organizationId: 'org-1' }, 1)
    expect((await repos.organizationMemberships.listByOrganization('org-1'))[0].spend).toBe(1)
    expect((await repos.organizationMemberships.listByUser('u4')).length).toBe(1)
    expect((await repos.organizationMemberships.deleteByUser('u4')).length).toBe(1)
    expect(await repos.organizationMemberships.get({ userId: 'u4', organizationId: 'org-1' })).toBeNull()
    await repos.organizationMemberships.insert({ userId: 'u1', organizationId: 'org-1', userRole: 'internal_user' })
    expect(await repos.organizationMemberships.delete({ userId: 'u1', organizationId: 'org-1' })).not.toBeNull()
  })

  test('budgets: rows, references and windows', async () => {
    const { repos, clock } = store
    const resetAt = new Date(clock.now() + 1000)
    await repos.budgets.insert({ budgetId: 'b-org', maxBudget: 10, budgetDuration: '1s', budgetResetAt: resetAt, modelMaxBudget: { m: { budget_limit: 1 } } })
    expect((await repos.budgets.get('b-org'))!.modelMaxBudget).toEqual({ m: { budget_limit: 1 } })
    expect(await repos.budgets.countReferences('b-org')).toBe(1)
    expect(await repos.budgets.countReferences('b-1')).toBe(0)
    expect((await repos.budgets.list()).map((b) => b.budgetId)).toEqual(['b-org'])
    expect(await repos.budgets.resetWindow('b-org', resetAt, new Date(resetAt.getTime() + 1000))).toBe(true)
    expect(await repos.budgets.resetWindow('b-org', resetAt, new Date(resetAt.getTime() + 1000))).toBe(false)
    expect(await repos.budgets.delete('b-org')).not.toBeNull()
  })

  test('end users: upserted spend creates the row once and then adds', async () => {
    const { repos, clock } = store
    await repos.endUsers.upsertSpend('customer-1', 0.1, new Date(clock.now()))
    await repos.endUsers.upsertSpend('customer-1', 0.2, new Date(clock.now()))
    expect((await repos.endUsers.get('customer-1'))!.spend).toBe(0.1 + 0.2)
    await repos.endUsers.insert({ userId: 'customer-2', metadata: {}, blocked: true })
    expect((await repos.endUsers.list()).map((e) => e.userId)).toEqual(['customer-1', 'customer-2'])
    expect((await repos.endUsers.getMany(['customer-2', 'nobody'])).map((e) => e.blocked)).toEqual([true])
    await repos.endUsers.ensureExist(['customer-3', 'customer-2', 'customer-3'], new Date(clock.now()))
    expect((await repos.endUsers.get('customer-3'))!.spend).toBe(0)
    expect((await repos.endUsers.get('customer-2'))!.blocked).toBe(true)
    await repos.endUsers.addSpendInOrder([{ id: 'customer-3', amounts: [0.5, 0.25] }])
    expect((await repos.endUsers.get('customer-3'))!.spend).toBe(0.75)
    await repos.endUsers.delete('customer-3')
  })

  test('tags', async () => {
    const { repos } = store
    await repos.tags.insert({ tagName: 'prod', models: [], description: 'production' })
    await repos.tags.addSpend('prod', 3)
    expect((await repos.tags.list())[0].spend).toBe(3)
    expect((await repos.tags.update('prod', { description: null }))!.description).toBeNull()
  })

  test('budgets: a new window resets the spend of every object on the row, keys with a window of their own excepted', async () => {
    const { repos } = store
    await repos.budgets.insert({ budgetId: 'b-linked', budgetDuration: '1d' })
    await repos.organizations.insert({ organizationId: 'org-linked', organizationAlias: 'L', budgetId: 'b-linked', models: [], metadata: {}, spend: 1 })
    await repos.endUsers.insert({ userId: 'eu-linked', budgetId: 'b-linked', metadata: {}, spend: 1 })
    await repos.tags.insert({ tagName: 'tag-linked', budgetId: 'b-linked', models: [], spend: 1 })
    await repos.organizationMemberships.insert({ userId: 'u-linked', organizationId: 'org-linked', userRole: 'internal_user', budgetId: 'b-linked', spend: 1 })
    await repos.memberships.insert({ userId: 'u-linked', teamId: 'team-linked', role: 'user', budgetId: 'b-linked', spend: 1 })
    const key = (token: string, budgetDuration: string | null) =>
      repos.keys.insert({ token, keyName: 'sk-...', budgetId: 'b-linked', budgetDuration, spend: 1, models: [], aliases: {}, metadata: {}, allowedRoutes: [], modelMaxBudget: {}, modelSpend: {} })
    await key('1'.repeat(64), null)
    await key('2'.repeat(64), '1h')
    const before = (await repos.organizations.get('org-linked'))!.version
    expect(await repos.budgets.resetLinkedSpend('b-linked')).toBe(6)
    expect((await repos.organizations.get('org-linked'))!).toMatchObject({ spend: 0, version: before + 1 })
    expect((await repos.endUsers.get('eu-linked'))!.spend).toBe(0)
    expect((await repos.tags.get('tag-linked'))!.spend).toBe(0)
    expect((await repos.organizationMemberships.get({ userId: 'u-linked', organizationId: 'org-linked' }))!.spend).toBe(0)
    expect((await repos.memberships.get({ userId: 'u-linked', teamId: 'team-linked' }))!.spend).toBe(0)
    expect((await repos.keys.get('1'.repeat(64)))!.spend).toBe(0)
    expect((await repos.keys.get('2'.repeat(64)))!.spend).toBe(1)
    expect(await repos.budgets.resetLinkedSpend('nothing-links-this')).toBe(0)
  })

  test('budget windows of keys clear model spend; teams are found by their default member budget row', async () => {
    const { repos, clock } = store
    const token = 'w1'.repeat(32)
    const end = new Date(clock.now() + 1000)
    await repos.keys.insert({ ...keyRow(token), budgetDuration: '1s', budgetResetAt: end, spend: 2, modelSpend: { m: 2 } })
    expect(await repos.keys.resetWindow(token, end, new Date(end.getTime() + 1000))).toBe(true)
    expect((await repos.keys.get(token))!).toMatchObject({ spend: 0, modelSpend: {} })
    await repos.keys.insert({ ...keyRow('w2'.repeat(32)), budgetId: 'b-linked', spend: 1, modelSpend: { m: 1 } })
    await repos.budgets.resetLinkedSpend('b-linked')
    expect((await repos.keys.get('w2'.repeat(32)))!).toMatchObject({ spend: 0, modelSpend: {} })
    await repos.budgets.insert({ budgetId: 'b-members' })
    await repos.teams.insert({ teamId: 'team-members-row', metadata: {}, models: [], teamMemberPermissions: [], teamMemberBudgetId: 'b-members' })
    expect((await repos.teams.list({ teamMemberBudgetId: 'b-members' })).rows.map((team) => team.teamId)).toEqual(['team-members-row'])
    expect((await repos.teams.list({ teamMemberBudgetId: 'nobody' })).rows).toEqual([])
  })

  test('end users: the default budget window resets only end users without a budget row of their own', async () => {
    const { repos } = store
    await repos.endUsers.insert({ userId: 'eu-default', metadata: {}, spend: 2 })
    await repos.endUsers.insert({ userId: 'eu-own', budgetId: 'b-linked', metadata: {}, spend: 3 })
    expect(await repos.endUsers.resetSpendWithoutBudget()).toBeGreaterThanOrEqual(1)
    expect((await repos.endUsers.get('eu-default'))!.spend).toBe(0)
    expect((await repos.endUsers.get('eu-own'))!.spend).toBe(3)
  })

  test('users: memberships of several users and key counts per user, in one query each', async () => {
    const { repos } = store
    expect((await repos.memberships.listByUsers(['u-linked', 'u3'])).map((m) => [m.userId, m.teamId]).sort()).toEqual([
      ['u-linked', 'team-linked'],
      ['u3', 'team-1'],
    ])
    expect(await repos.memberships.listByUsers([])).toEqual([])
    const keyOf = (token: string, userId: string) =>
      repos.keys.insert({ token, keyName: 'sk-...', userId, models: [], aliases: {}, metadata: {}, allowedRoutes: [], modelMaxBudget: {}, modelSpend: {} })
    await keyOf('3'.repeat(64), 'owner-1')
    await keyOf('4'.repeat(64), 'owner-1')
    await keyOf('5'.repeat(64), 'owner-2')
    const counts = await repos.keys.countByUsers(['owner-1', 'owner-2', 'owner-3'])
    expect([...counts.entries()].sort()).toEqual([
      ['owner-1', 2],
      ['owner-2', 1],
    ])
    expect((await repos.keys.countByUsers([])).size).toBe(0)
  })

  test('spend logs: idempotent batch insert, lookups by request or response id, filters, pruning', async () => {
    const { repos } = store
    const rows = Array.from({ length: 450 }, (_, i) => spendLog(`r-${String(i).padStart(4, '0')}`, { startTime: new Date(Date.UTC(2026, 0, 1 + (i % 10))) }))
    expect((await repos.spendLogs.insertMany(rows)).length).toBe(450)
    expect(await repos.spendLogs.insertMany([rows[0], spendLog('r-new')])).toEqual(['r-new'])
    const one = (await repos.spendLogs.get('r-0001'))!
    expect(one.metadata).toEqual({ x: 1 })
    expect(one.requestTags).toEqual(['a'])
    expect(one.usageEstimated).toBe(false)
    expect((await repos.spendLogs.list({ requestId: 'chatcmpl-r-0002' }, { offset: 0, limit: 10 })).rows[0].requestId).toBe('r-0002')
    const janFirst = await repos.spendLogs.list({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-02T00:00:00Z') }, { offset: 0, limit: 100 })
    expect(janFirst.total).toBe(45)
    await repos.spendLogs.insertMany([spendLog('r-cheap', { spend: 0.01, model: 'llama', endUser: 'c1', status: 'failure', userId: 'u1' })])
    const narrow = await repos.spendLogs.list({ model: 'llama', endUser: 'c1', status: 'failure', minSpend: 0.005, maxSpend: 0.01 }, { offset: 0, limit: 10 })
    expect(narrow.rows.map((r) => r.requestId)).toEqual(['r-cheap'])
    expect((await repos.spendLogs.list({ minSpend: 0.02, model: 'llama' }, { offset: 0, limit: 10 })).total).toBe(0)
    const mine = await repos.spendLogs.list({ visibleTo: { userIds: ['u1'], teamIds: ['no-such-team'] } }, { offset: 0, limit: 10 })
    expect(mine.rows.map((r) => r.requestId)).toEqual(['r-cheap'])
    expect((await repos.spendLogs.list({ visibleTo: {} }, { offset: 0, limit: 10 })).total).toBe(0)
    expect((await repos.spendLogs.list({ visibleTo: { apiKeys: ['a'.repeat(64)] }, model: 'llama' }, { offset: 0, limit: 10 })).total).toBe(1)
    const days = await repos.spendLogs.summarizeByDay({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-01-03T00:00:00Z') })
    expect(days).toEqual([
      { day: '2026-01-01', apiKey: 'a'.repeat(64), userId: null, model: 'gpt-4o', spend: 45 * 0.5 },
      { day: '2026-01-02', apiKey: 'a'.repeat(64), userId: null, model: 'gpt-4o', spend: 45 * 0.5 },
    ])
    expect(await repos.spendLogs.deleteOlderThan(new Date('2026-01-02T00:00:00Z'), 40)).toBe(40)
    expect(await repos.spendLogs.deleteOlderThan(new Date('2026-01-02T00:00:00Z'))).toBe(5)
  })

  test('settled requests: the first mark of an id wins, repeats and duplicates are not fresh, old marks are pruned', async () => {
    const { repos } = store
    const at = new Date('2026-01-10T00:00:00Z')
    expect((await repos.settledRequests.markSettled(['s-1', 's-2', 's-1'], at)).sort()).toEqual(['s-1', 's-2'])
    expect(await repos.settledRequests.markSettled(['s-2', 's-3'], new Date('2026-01-20T00:00:00Z'))).toEqual(['s-3'])
    const many = Array.from({ length: 900 }, (_, i) => `bulk-${i}`)
    expect((await repos.settledRequests.markSettled(many, at)).length).toBe(900)
    expect(await repos.settledRequests.deleteOlderThan(new Date('2026-01-15T00:00:00Z'), 500)).toBe(500)
    expect(await repos.settledRequests.deleteOlderThan(new Date('2026-01-15T00:00:00Z'), 500)).toBe(402)
    expect(await repos.settledRequests.markSettled(['s-1', 's-3'], at)).toEqual(['s-1'])
  })

  test('daily spend: increments merge duplicates and add to existing rows', async () => {
    const { repos } = store
    const base = { entityType: 'team', entityId: 'team-1', date: '2026-01-15', apiKey: 'k', modelGroup: 'g', model: 'm', provider: 'openai', promptTokens: 1, completionTokens: 2, spend: 0.1, apiRequests: 1, successfulRequests: 1, failedRequests: 0 }
    await repos.dailySpend.increment([base, base])
    await repos.dailySpend.increment([{ ...base, spend: 0.2, failedRequests: 1, successfulRequests: 0 }, { ...base, date: '2026-01-16' }])
    const rows = await repos.dailySpend.list({ entityType: 'team', from: '2026-01-15', to: '2026-01-15' })
    expect(rows).toHaveLength(1)
    expect(rows[0].spend).toBe(0.1 + 0.1 + 0.2)
    expect(rows[0].apiRequests).toBe(3)
    expect(rows[0].failedRequests).toBe(1)
    expect((await repos.dailySpend.list({ entityType: 'team', entityIds: ['team-1'], from: '2026-01-01', to: '2026-01-31' })).length).toBe(2)
  })

  test('daily spend: grouped sums over an entity type, day range, key and model, and newest-first pages', async () => {
    const { repos } = store
    const row = (fields: Record<string, unknown>) => ({ entityType: 'key', entityId: 'k1', date: '2026-02-01', apiKey: 'k1', modelGroup: 'g', model: 'm', provider: 'openai', promptTokens: 10, completionTokens: 5, spend: 0.5, apiRequests: 1, successfulRequests: 1, failedRequests: 0, ...fields })
    await repos.dailySpend.increment([
      row({}),
      row({ model: 'm2', spend: 0.25 }),
      row({ entityId: 'k2', apiKey: 'k2', date: '2026-02-02', spend: 1, failedRequests: 1, successfulRequests: 0 }),
      row({ entityId: '', apiKey: '', date: '2026-02-03', spend: 2 }),
      row({ entityType: 'user', entityId: 'u1' }),
    ])
    const total = await repos.dailySpend.summarize({ entityType: 'key', from: '2026-02-01', to: '2026-02-28' }, [])
    expect(total).toEqual([{ promptTokens: 40, completionTokens: 20, spend: 3.75, apiRequests: 4, successfulRequests: 3, failedRequests: 1 }])
    const byDay = await repos.dailySpend.summarize({ entityType: 'key', from: '2026-02-01', to: '2026-02-02' }, ['date', 'apiKey'])
    expect(byDay.map((r) => [r.date, r.apiKey, r.spend])).toEqual([['2026-02-01', 'k1', 0.75], ['2026-02-02', 'k2', 1]])
    const filtered = await repos.dailySpend.summarize({ entityType: 'key', model: 'm', apiKey: 'k1', excludeEntityIds: [''] }, ['model'])
    const ofKeys = await repos.dailySpend.summarize({ entityType: 'key', apiKeys: ['k2'] }, ['apiKey'])
    expect(ofKeys.map((r) => r.apiKey)).toEqual(['k2'])
    expect(await repos.dailySpend.summarize({ entityType: 'key', apiKeys: [] }, ['apiKey'])).toEqual([])
    expect(filtered.map((r) => [r.model, r.spend])).toEqual([['m', 0.5]])
    expect(await repos.dailySpend.summarize({ entityType: 'key', entityIds: [] }, ['entityId'])).toEqual([])
    const page = await repos.dailySpend.page({ entityType: 'key', from: '2026-02-01' }, { offset: 0, limit: 2 })
    expect(page.total).toBe(4)
    expect(page.rows.map((r) => r.date)).toEqual(['2026-02-03', '2026-02-02'])
  })

  test('audit log: record and filtered, paged, newest-first listing', async () => {
    const { repos, clock } = store
    for (let i = 0; i < 3; i++) {
      clock.advance(1)
      await repos.audit.record({ changedBy: 'admin', changedByApiKey: null, action: 'updated', route: '/team/update', tableName: 'teams', objectId: 'team-1', beforeValue: { i }, updatedValues: { i: i + 1 } })
    }
    const page = await repos.audit.list({ tableName: 'teams', objectId: 'team-1' }, { offset: 0, limit: 2 })
    expect(page.total).toBe(3)
    expect(page.rows.map((r) => r.beforeValue)).toEqual([{ i: 2 }, { i: 1 }])
    await repos.audit.record({ changedBy: 'admin', changedByApiKey: null, action: 'created', route: '/team/new', tableName: 'teams', objectId: 'team-o', beforeValue: null, updatedValues: {}, organizationId: 'org-1' })
    const ofOrganization = await repos.audit.list({ organizationIds: ['org-1', 'org-2'] }, { offset: 0, limit: 10 })
    expect(ofOrganization.rows.map((r) => [r.objectId, r.organizationId])).toEqual([['team-o', 'org-1']])
    expect((await repos.audit.list({ organizationIds: [] }, { offset: 0, limit: 10 })).total).toBe(0)
  })

  test('settings: put, get and put-if-absent', async () => {
    const { repos } = store
    expect(await repos.settings.get('x')).toBeNull()
    expect(await repos.settings.putIfAbsent('x', '1')).toBe(true)
    expect(await repos.settings.putIfAbsent('x', '2')).toBe(false)
    await repos.settings.put('x', '3')
    expect(await repos.settings.get('x')).toBe('3')
  })

  test('job leases: one holder at a time until expiry', async () => {
    const { repos, clock } = store
    const now = new Date(clock.now())
    expect(await repos.jobLeases.acquire('sweeper', 'a', now, 5000)).toBe(true)
    expect(await repos.jobLeases.acquire('sweeper', 'b', now, 5000)).toBe(false)
    expect(await repos.jobLeases.acquire('sweeper', 'a', now, 5000)).toBe(true)
    expect(await repos.jobLeases.acquire('sweeper', 'b', new Date(now.getTime() + 5000), 5000)).toBe(true)
    await repos.jobLeases.release('sweeper', 'b')
    expect(await repos.jobLeases.acquire('sweeper', 'a', now, 5000)).toBe(true)
  })

  test('ping answers', async () => {
    await store.repos.ping()
  })
})
