import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describeEachEngine } from '../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../test/fixtures'
import { openSpendHarness, type SpendHarness } from '../../test/spend-harness'
import { seededRandom, spendRow } from '../../test/spend-rows'
import type { Repositories, SpendLogRow } from '../db/ports'
import { keyModelKey, membershipKey, PROXY_BUDGET_USER } from './increments'
import { costOf, priceOf } from './prices'

const GPT_4O = priceOf({ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } })
const START = Date.UTC(2026, 0, 15, 23, 0, 0)

/** Adds in the given order: the sum a level's spend must equal exactly. */
const sumInOrder = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0)

type World = { keys: { token: string; teamId: string; userId: string; organizationId: string | null }[] }

async function seedWorld(repos: Repositories): Promise<World> {
  await insertTeam(repos, { teamId: 'team-a', organizationId: 'org-1' })
  await insertTeam(repos, { teamId: 'team-b' })
  await repos.organizations.insert({ organizationId: 'org-1', organizationAlias: 'Org', budgetId: 'b-org', models: [], metadata: {} })
  for (const userId of ['u1', 'u2', 'u3']) await insertUser(repos, { userId })
  await repos.memberships.insert({ userId: 'u1', teamId: 'team-a', role: 'user' })
  await repos.memberships.insert({ userId: 'u2', teamId: 'team-a', role: 'user' })
  await repos.memberships.insert({ userId: 'u3', teamId: 'team-b', role: 'user' })
  await repos.endUsers.insert({ userId: 'cust-existing', metadata: {} })
  await repos.tags.insert({ tagName: 'prod', models: [] })
  const keys = [
    { teamId: 'team-a', userId: 'u1', organizationId: 'org-1' },
    { teamId: 'team-a', userId: 'u2', organizationId: 'org-1' },
    { teamId: 'team-b', userId: 'u3', organizationId: null },
  ]
  const rows = []
  for (const key of keys) rows.push({ ...key, token: (await insertKey(repos, key)).row.token })
  return { keys: rows }
}

function trafficRows(world: World, count: number, seed: number): SpendLogRow[] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, (_, i) => {
    const key = world.keys[Math.floor(random() * world.keys.length)]
    const promptTokens = 1 + Math.floor(random() * 4000)
    const completionTokens = Math.floor(random() * 1500)
    const failed = random() < 0.05
    const model = random() < 0.5 ? 'gpt-4o' : 'gpt-4o-mini'
    return spendRow({
      apiKey: key.token,
      teamId: key.teamId,
      userId: key.userId,
      organizationId: key.organizationId,
      endUser: random() < 0.3 ? 'cust-existing' : random() < 0.5 ? 'cust-new' : null,
      requestTags: random() < 0.5 ? ['prod', 'batch'] : ['batch'],
      model,
      modelGroup: model,
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      spend: failed ? 0 : costOf(GPT_4O, { promptTokens, completionTokens }),
      status: failed ? 'failure' : 'success',
      // One row per 2 minutes across midnight: two rollup days.
      startTime: new Date(START + i * 120_000),
    })
  })
}

/** Every spend log row in the database, in settlement order (start time). */
async function storedRows(repos: Repositories): Promise<SpendLogRow[]> {
  const { rows } = await repos.spendLogs.list({}, { offset: 0, limit: 100_000 })
  return rows.reverse()
}

describeEachEngine('spend engine', (engine) => {
  let h: SpendHarness
  let world: World
  let recorded: SpendLogRow[]
  beforeAll(async () => {
    h = await openSpendHarness(engine, { proxyBudget: { maxBudget: 1000, budgetDuration: '30d' } })
    world = await seedWorld(h.store.repos)
  })
  afterAll(() => h.close())

  test('after 1,234 settlements across two teams and three keys, every level equals the sum of its spend log rows exactly', async () => {
    recorded = trafficRows(world, 1234, 7)
    for (const row of recorded.slice(0, 700)) h.spend.record(row)
    expect(h.spend.backlog().events).toBe(700)
    const first = await h.spend.flush()
    expect(first).toEqual({ settled: 700, remaining: 0 })
    for (const row of recorded.slice(700)) h.spend.record(row)
    expect(await h.spend.flush()).toEqual({ settled: 534, remaining: 0 })

    const { repos } = h.store
    const stored = await storedRows(repos)
    expect(stored.map((row) => row.requestId)).toEqual(recorded.map((row) => row.requestId))
    const sumOf = (keep: (row: SpendLogRow) => boolean) => sumInOrder(stored.filter(keep).map((row) => row.spend))

    for (const key of world.keys) {
      const row = (await repos.keys.get(key.token))!
      expect(row.spend).toBe(sumOf((r) => r.apiKey === key.token))
      expect(row.modelSpend['gpt-4o-mini']).toBe(sumOf((r) => r.apiKey === key.token && r.modelGroup === 'gpt-4o-mini'))
    }
    for (const teamId of ['team-a', 'team-b']) expect((await repos.teams.get(teamId))!.spend).toBe(sumOf((r) => r.teamId === teamId))
    for (const [teamId, userId] of [['team-a', 'u1'], ['team-a', 'u2'], ['team-b', 'u3']]) {
      expect((await repos.memberships.get({ teamId, userId }))!.spend).toBe(sumOf((r) => r.teamId === teamId && r.userId === userId))
      expect((await repos.users.get(userId))!.spend).toBe(sumOf((r) => r.userId === userId))
    }
    expect((await repos.organizations.get('org-1'))!.spend).toBe(sumOf((r) => r.organizationId === 'org-1'))
    expect((await repos.endUsers.get('cust-existing'))!.spend).toBe(sumOf((r) => r.endUser === 'cust-existing'))
    // An end user seen only in traffic gets a row on its first settled request.
    expect((await repos.endUsers.get('cust-new'))!.spend).toBe(sumOf((r) => r.endUser === 'cust-new'))
    expect((await repos.tags.get('prod'))!.spend).toBe(sumOf((r) => r.requestTags.includes('prod')))
    expect(await repos.tags.get('batch')).toBeNull()
    expect((await repos.users.get(PROXY_BUDGET_USER))!).toMatchObject({ spend: sumOf(() => true), maxBudget: 1000, budgetDuration: '30d' })

    // Rollups: request counts exact; spend summed per batch, equal to the rows up to rounding.
    const byTeam = await repos.dailySpend.summarize({ entityType: 'team' }, ['entityId'])
    expect(byTeam.map((r) => [r.entityId, r.apiRequests, r.failedRequests])).toEqual(
      ['team-a', 'team-b'].map((id) => [id, stored.filter((r) => r.teamId === id).length, stored.filter((r) => r.teamId === id && r.status === 'failure').length]),
    )
    for (const team of byTeam) expect(team.spend).toBeCloseTo(sumOf((r) => r.teamId === team.entityId), 12)
    const days = await repos.dailySpend.summarize({ entityType: 'key' }, ['date'])
    expect(days.map((d) => [d.date, d.apiRequests])).toEqual([
      ['2026-01-15', stored.filter((r) => r.startTime.getTime() < Date.UTC(2026, 0, 16)).length],
      ['2026-01-16', stored.filter((r) => r.startTime.getTime() >= Date.UTC(2026, 0, 16) && r.startTime.getTime() < Date.UTC(2026, 0, 17)).length],
      ['2026-01-17', stored.filter((r) => r.startTime.getTime() >= Date.UTC(2026, 0, 17)).length],
    ])
    expect(h.spend.backlog()).toEqual({ events: 0, oldest_seconds: 0 })
  })

  test('the spool is trimmed once everything has committed', () => {
    const files = readdirSync(h.folder).filter((name) => name.endsWith('.jsonl'))
    expect(files).toHaveLength(1)
    expect(statSync(join(h.folder, files[0])).size).toBe(0)
  })

  test('the same request recorded again (same batch or a later one) counts once', async () => {
    const { repos } = h.store
    const before = (await repos.keys.get(world.keys[0].token))!.spend
    const row = spendRow({ apiKey: world.keys[0].token, teamId: 'team-a', userId: 'u1', spend: 0.125 })
    h.spend.record(row)
    h.spend.record({ ...row, spend: 99 })
    expect(await h.spend.flush()).toEqual({ settled: 2, remaining: 0 })
    h.spend.record(row)
    h.spend.record(recorded[0])
    await h.spend.flush()
    expect((await repos.keys.get(world.keys[0].token))!.spend).toBe(before + 0.125)
    expect((await repos.spendLogs.get(row.requestId))!.spend).toBe(0.125)
  })

  test('unflushed spend is visible at once through pendingSpend, and leaves it when it commits', async () => {
    const row = spendRow({ apiKey: world.keys[2].token, teamId: 'team-b', userId: 'u3', endUser: 'cust-x', requestTags: ['t1', 't1'], spend: 0.5 })
    h.spend.record(row)
    h.spend.record({ ...row, requestId: `${row.requestId}-2`, spend: 0.25 })
    expect(h.spend.pendingSpend('team', 'team-b')).toBe(0.75)
    expect(h.spend.pendingSpend('key', world.keys[2].token)).toBe(0.75)
    expect(h.spend.pendingSpend('membership', membershipKey('team-b', 'u3'))).toBe(0.75)
    expect(h.spend.pendingSpend('end_user', 'cust-x')).toBe(0.75)
    expect(h.spend.pendingSpend('tag', 't1')).toBe(0.75)
    expect(h.spend.pendingSpend('user', PROXY_BUDGET_USER)).toBe(0.75)
    expect(h.spend.pendingSpend('team', 'team-a')).toBe(0)
    expect(h.spend.pendingSpend('key_model', keyModelKey(world.keys[2].token, row.modelGroup))).toBe(0.75)
    h.clock.advance(4_000)
    expect(h.spend.backlog()).toEqual({ events: 2, oldest_seconds: 4 })
    // The settling generation is odd while a batch is written, and moves on with every batch.
    const before = h.spend.settlingGeneration()
    expect(before % 2).toBe(0)
    const flushing = h.spend.flush()
    expect(h.spend.settlingGeneration() % 2).toBe(1)
    await flushing
    expect(h.spend.settlingGeneration()).toBeGreaterThan(before)
    expect(h.spend.settlingGeneration() % 2).toBe(0)
    expect(h.spend.pendingSpend('team', 'team-b')).toBe(0)
    expect(h.spend.pendingSpend('key_model', keyModelKey(world.keys[2].token, row.modelGroup))).toBe(0)
    expect(h.spend.backlog().events).toBe(0)
    expect(await h.metrics.registry.getSingleMetricAsString('tollgate_spend_spool_events')).toContain('tollgate_spend_spool_events 0')
  })

  test('settlement listeners hear about each applied row once, after its commit', async () => {
    const heard: string[][] = []
    let heardAll!: () => void
    const done = new Promise<void>((resolve) => (heardAll = resolve))
    h.spend.onSettled(async (rows) => {
      for (const row of rows) expect(await h.store.repos.spendLogs.get(row.requestId)).not.toBeNull()
      heard.push(rows.map((row) => row.requestId))
      heardAll()
    })
    const row = spendRow({ teamId: 'team-a', spend: 0.5 })
    h.spend.record(row)
    h.spend.record(row)
    h.spend.record(recorded[1])
    await h.spend.flush()
    await done
    expect(heard).toEqual([[row.requestId]])
  })

  test('a row without a request id gets a generated one instead of being dropped', async () => {
    h.spend.record(spendRow({ requestId: '', spend: 0.01, teamId: 'team-b' }))
    await h.spend.flush()
    const { rows } = await h.store.repos.spendLogs.list({ teamId: 'team-b' }, { offset: 0, limit: 1 })
    expect(rows[0].requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(h.log.lines.some((line) => line.message === 'a settlement without request_id got a generated one')).toBe(true)
  })
})

describeEachEngine('spend engine with disable_spend_logs', (engine) => {
  test('no raw rows are kept, yet entity spend and rollups still count each request exactly once', async () => {
    const h = await openSpendHarness(engine, { keepRawRows: false })
    try {
      const { repos } = h.store
      await insertTeam(repos, { teamId: 'team-a' })
      const rows = [0.5, 0.25, 0.125].map((spend) => spendRow({ teamId: 'team-a', spend }))
      for (const row of rows) h.spend.record(row)
      await h.spend.flush()
      // A replay (the same rows again, e.g. from a spool copied before a crash) changes nothing.
      for (const row of rows) h.spend.record(row)
      await h.spend.flush()
      expect((await repos.teams.get('team-a'))!.spend).toBe(0.875)
      expect((await repos.spendLogs.list({}, { offset: 0, limit: 10 })).total).toBe(0)
      const [rollup] = await repos.dailySpend.summarize({ entityType: 'team', entityIds: ['team-a'] }, [])
      expect(rollup).toMatchObject({ apiRequests: 3, spend: 0.875 })
    } finally {
      await h.close()
    }
  })
})

/** Repositories whose transactions fail while `down` is set, as an unreachable database's would. */
function switchable(connectionError: () => Error) {
  const state = { down: false, poison: new Set<string>(), attempts: 0 }
  const wrap = (repos: Repositories): Repositories => ({
    ...repos,
    transaction: async (work) => {
      state.attempts += 1
      if (state.down) throw connectionError()
      return repos.transaction(async (tx) => {
        const wrapped: Repositories = {
          ...tx,
          spendLogs: {
            ...tx.spendLogs,
            insertMany: async (rows) => {
              if (rows.some((row) => state.poison.has(row.requestId))) throw new Error('value rejected by the database')
              return tx.spendLogs.insertMany(rows)
            },
          },
        }
        return work(wrapped)
      })
    },
  })
  return { state, wrap }
}

describeEachEngine('spend engine while the database is down', (engine) => {
  const connectionError = () =>
    engine.name === 'pg' ? Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) : new Error('SQLITE_BUSY: database is locked')

  test('a flush while the database is down keeps everything in the spool and succeeds when it returns', async () => {
    const { state, wrap } = switchable(connectionError)
    const h = await openSpendHarness(engine, { wrapRepos: wrap })
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      state.down = true
      const rows = Array.from({ length: 1200 }, (_, i) => spendRow({ teamId: 'team-a', spend: (i + 1) * 1e-6 }))
      for (const row of rows) h.spend.record(row)
      const failed = await h.spend.flush()
      expect(failed.settled).toBe(0)
      expect(failed.remaining).toBe(1200)
      expect(failed.error).toBeDefined()
      expect(h.spend.backlog().events).toBe(1200)
      const spoolFile = readdirSync(h.folder).find((name) => name.endsWith('.jsonl'))!
      expect(readFileSync(join(h.folder, spoolFile), 'utf8').trim().split('\n')).toHaveLength(1200)
      expect(h.log.lines.some((line) => line.message === 'database unreachable: settlements stay in the spend spool and are retried')).toBe(true)

      state.down = false
      expect(await h.spend.flush()).toEqual({ settled: 1200, remaining: 0 })
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(sumInOrder(rows.map((row) => row.spend)))
      expect((await h.store.repos.spendLogs.list({}, { offset: 0, limit: 1 })).total).toBe(1200)
    } finally {
      await h.close()
    }
  })

  test('a row the database refuses for another reason is isolated and set aside after retries; the rest settle', async () => {
    const { state, wrap } = switchable(connectionError)
    const h = await openSpendHarness(engine, { wrapRepos: wrap })
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      const rows = Array.from({ length: 10 }, () => spendRow({ teamId: 'team-a', spend: 0.5 }))
      state.poison.add(rows[4].requestId)
      for (const row of rows) h.spend.record(row)
      for (let i = 0; i < 8 && h.spend.backlog().events > 0; i++) await h.spend.flush()
      expect(h.spend.backlog().events).toBe(0)
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(4.5)
      const rejected = readdirSync(h.folder).find((name) => name.endsWith('.rejected'))!
      expect(readFileSync(join(h.folder, rejected), 'utf8')).toContain(rows[4].requestId)
      // Stopping removes the empty spool; the set-aside file stays for an operator.
      await h.spend.stop()
      expect(readdirSync(h.folder)).toEqual([rejected])
    } finally {
      await h.close()
    }
  })

  test('stopping while the database is down leaves the rows in the spool; the next start replays them once', async () => {
    const { state, wrap } = switchable(connectionError)
    const h = await openSpendHarness(engine, { wrapRepos: wrap, stopTimeoutMs: 300 })
    try {
      await insertTeam(h.store.repos, { teamId: 'team-a' })
      state.down = true
      for (let i = 0; i < 5; i++) h.spend.record(spendRow({ teamId: 'team-a', spend: 0.25 }))
      await h.spend.stop()
      expect(readdirSync(h.folder).filter((name) => name.endsWith('.jsonl'))).toHaveLength(1)
      state.down = false
      const restarted = h.another()
      await restarted.start()
      await restarted.flush()
      expect((await h.store.repos.teams.get('team-a'))!.spend).toBe(1.25)
      expect(h.log.lines.some((line) => line.message === 'replaying the spend spool of a stopped instance')).toBe(true)
    } finally {
      await h.close()
    }
  })
})

describe('spend retention', () => {
  describeEachEngine('pruning', (engine) => {
    test('raw rows older than the retention period and markers older than 30 days are pruned by one leader, daily', async () => {
      const h = await openSpendHarness(engine, { spendLogRetention: '7d' })
      try {
        const now = h.clock.now()
        const old = spendRow({ startTime: new Date(now - 8 * 86_400_000), spend: 1, teamId: 'x' })
        const fresh = spendRow({ startTime: new Date(now - 6 * 86_400_000), spend: 1, teamId: 'x' })
        h.spend.record(old)
        h.spend.record(fresh)
        await h.spend.flush()
        h.clock.advance(-31 * 86_400_000)
        h.spend.record(spendRow({ spend: 1 }))
        await h.spend.flush()
        h.clock.advance(31 * 86_400_000)
        // Settled 31 days ago: its marker goes; the other two were settled "now".
        expect(await h.spend.runRetention()).toEqual({ spendLogs: 1, settledMarkers: 1 })
        expect(await h.store.repos.spendLogs.get(old.requestId)).toBeNull()
        expect(await h.store.repos.spendLogs.get(fresh.requestId)).not.toBeNull()
        expect(await h.another().runRetention()).toBeNull()
        expect(await h.spend.runRetention()).toBeNull()
        h.clock.advance(2 * 86_400_000)
        expect(await h.spend.runRetention()).toEqual({ spendLogs: 1, settledMarkers: 0 })
        // Entity spend and rollups are never pruned.
        const [total] = await h.store.repos.dailySpend.summarize({ entityType: 'key' }, [])
        expect(total.apiRequests).toBe(3)
      } finally {
        await h.close()
      }
    })
  })

  test('starting and stopping without traffic creates no spool files', async () => {
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const folder = join(mkdtempSync(join(tmpdir(), 'tollgate-spool-parent-')), 'spool')
    const { sqliteEngine } = await import('../../test/engines')
    const h = await openSpendHarness(sqliteEngine, { spoolFolder: folder })
    try {
      await h.spend.start()
      await h.spend.flush()
      await h.spend.stop()
      expect(existsSync(folder)).toBe(false)
    } finally {
      await h.close()
    }
  })
})
