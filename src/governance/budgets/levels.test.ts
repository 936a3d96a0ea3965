import { describe, expect, test } from 'bun:test'
import type { BudgetRow, KeyRow, TagRow, TeamMembershipRow, TeamRow, UserRow } from '../../db/ports'
import type { ModelTarget } from '../../deployments/catalog'
import { toDeployment } from '../../deployments/deployment'
import { createPricing } from '../../spend/prices'
import { estimateRequest, groupPrice, maxOut, promptBound } from './estimate'
import { globalBudgetOf } from './proxy-budget'
import { budgetLevels, dueWindows, scopeOf, windowIdOf, type BudgetPolicy, type BudgetSnapshots } from './levels'

const NOW = Date.UTC(2026, 0, 15, 12)
const row = <T>(fields: Partial<T>) => ({ version: 1, ...fields }) as T
const budget = (budgetId: string, fields: Partial<BudgetRow> = {}) =>
  row<BudgetRow>({ budgetId, maxBudget: null, softBudget: null, budgetDuration: null, budgetResetAt: null, modelMaxBudget: null, ...fields })
const key = (fields: Partial<KeyRow> = {}) =>
  row<KeyRow>({ token: 'h', teamId: null, maxBudget: null, softBudget: null, budgetDuration: null, budgetResetAt: null, modelMaxBudget: {}, tempBudgetIncrease: null, tempBudgetExpiry: null, budgetId: null, ...fields })
const team = (fields: Partial<TeamRow> = {}) => row<TeamRow>({ teamId: 't1', maxBudget: null, softBudget: null, budgetDuration: null, budgetResetAt: null, ...fields })
const user = (fields: Partial<UserRow> = {}) => row<UserRow>({ userId: 'u1', maxBudget: null, softBudget: null, budgetDuration: null, budgetResetAt: null, ...fields })

const none: BudgetSnapshots = {
  keyHash: null,
  key: null,
  keyTier: null,
  modelGroup: 'llama3',
  requestedModel: 'llama3',
  team: null,
  userId: null,
  membership: null,
  memberBudget: null,
  teamMemberDefaults: null,
  user: null,
  organizationId: null,
  organization: null,
  organizationBudget: null,
  endUserId: null,
  endUser: null,
  endUserBudget: null,
  tags: [],
  proxyUser: null,
}
const policy: BudgetPolicy = { skipUserBudgetOnTeamKey: false, maxEndUserBudget: null, globalMaxBudget: null }

describe('which budgets apply to a request', () => {
  test('every level of the contract table, in its order, with the message prefixes', () => {
    const day = new Date(NOW + 86_400_000)
    const levels = budgetLevels(
      {
        ...none,
        keyHash: 'h',
        key: key({ teamId: 't1', maxBudget: 1, modelMaxBudget: { llama3: { budget_limit: 0.5, time_period: '1d' } } }),
        team: team({ maxBudget: 2, budgetDuration: '1d', budgetResetAt: day }),
        userId: 'u1',
        membership: row<TeamMembershipRow>({ teamId: 't1', userId: 'u1', version: 4 }),
        teamMemberDefaults: budget('member-defaults', { maxBudget: 3 }),
        user: user({ maxBudget: 4 }),
        organizationId: 'o1',
        organizationBudget: budget('org-budget', { maxBudget: 5, budgetDuration: '30d', budgetResetAt: day }),
        endUserId: 'customer-1',
        tags: [{ tag: row<TagRow>({ tagName: 'prod' }), budget: budget('tag-budget', { maxBudget: 7 }) }],
      },
      { ...policy, maxEndUserBudget: 6, globalMaxBudget: 8 },
      NOW,
    )
    expect(levels.map((l) => [l.level, l.maxBudget, l.prefix])).toEqual([
      ['key', 1, ''],
      ['key_model', 0.5, ''],
      ['team', 2, ''],
      ['team_member', 3, 'User=u1 in Team=t1 '],
      ['user', 4, ''],
      ['organization', 5, 'Organization=o1 '],
      ['end_user', 6, ''],
      ['tag', 7, 'Tag=prod '],
      ['proxy', 8, ''],
    ])
    expect(levels.map((l) => scopeOf(l.source))).toEqual([
      'key:h',
      'key_model:["h","llama3"]',
      'team:t1',
      'membership:["t1","u1"]',
      'user:u1',
      'organization:o1',
      'end_user:customer-1',
      'tag:prod',
      'user:litellm-proxy-budget',
    ])
    // The member without a window of their own, nor a default one, follows the team's window.
    expect(levels[3].window).toEqual({ owner: { table: 'teams', id: 't1' }, endsAt: day, duration: '1d' })
    expect(windowIdOf(levels[5].window)).toBe(String(day.getTime()))
    expect(windowIdOf(levels[0].window)).toBe('lifetime')
  })

  test('levels without a cap or soft budget are left out; a soft budget alone is tracked', () => {
    const levels = budgetLevels({ ...none, team: team(), userId: 'u1', user: user({ softBudget: 1 }) }, policy, NOW)
    expect(levels.map((l) => [l.level, l.maxBudget, l.softBudget])).toEqual([['user', null, 1]])
  })

  test("a key's tier fills its cap, an unexpired temporary increase raises it, and the tier's window is the key's without one", () => {
    const tier = budget('tier', { maxBudget: 10, budgetDuration: '1h', budgetResetAt: new Date(NOW + 1000) })
    const raised = budgetLevels({ ...none, keyHash: 'h', key: key({ budgetId: 'tier', tempBudgetIncrease: 5, tempBudgetExpiry: new Date(NOW + 1) }), keyTier: tier }, policy, NOW)
    expect(raised[0]).toMatchObject({ maxBudget: 15, window: { owner: { table: 'budgets', id: 'tier' } } })
    const expired = budgetLevels({ ...none, keyHash: 'h', key: key({ maxBudget: 1, tempBudgetIncrease: 5, tempBudgetExpiry: new Date(NOW) }), keyTier: tier }, policy, NOW)
    expect(expired[0].maxBudget).toBe(1)
  })

  test("a member's own row wins over the team default row, field by field, and its window over the team's", () => {
    const own = budget('own', { maxBudget: 1, budgetDuration: '1d', budgetResetAt: new Date(NOW + 5) })
    const defaults = budget('defaults', { maxBudget: 9, softBudget: 0.5, budgetDuration: '7d', budgetResetAt: new Date(NOW + 6) })
    const [member] = budgetLevels({ ...none, team: team(), userId: 'u1', memberBudget: own, teamMemberDefaults: defaults }, policy, NOW)
    expect(member).toMatchObject({ level: 'team_member', maxBudget: 1, softBudget: 0.5, window: { owner: { id: 'own' } } })
    const [inherited] = budgetLevels({ ...none, team: team(), userId: 'u1', memberBudget: budget('own', { maxBudget: 1 }), teamMemberDefaults: defaults }, policy, NOW)
    expect(inherited.window).toMatchObject({ owner: { table: 'budgets', id: 'defaults' }, duration: '7d' })
  })

  test('skip_user_budget_on_team_key skips the user level on team keys only; a global budget of 0 is off', () => {
    const snapshots = { ...none, keyHash: 'h', key: key({ teamId: 't1' }), userId: 'u1', user: user({ maxBudget: 1 }) }
    expect(budgetLevels(snapshots, policy, NOW).map((l) => l.level)).toEqual(['user'])
    expect(budgetLevels(snapshots, { ...policy, skipUserBudgetOnTeamKey: true }, NOW)).toEqual([])
    expect(budgetLevels({ ...snapshots, key: key() }, { ...policy, skipUserBudgetOnTeamKey: true }, NOW).map((l) => l.level)).toEqual(['user'])
    expect(globalBudgetOf({ max_budget: 0, budget_duration: '1d' })).toBeNull()
    expect(globalBudgetOf({ max_budget: 10 })).toEqual({ maxBudget: 10, budgetDuration: null })
  })

  test('ended windows are found once per owner', () => {
    const ended = new Date(NOW)
    const levels = budgetLevels({ ...none, team: team({ maxBudget: 1, budgetDuration: '1d', budgetResetAt: ended }), userId: 'u1', teamMemberDefaults: budget('d', { maxBudget: 1 }) }, policy, NOW)
    expect(dueWindows(levels, NOW)).toEqual([{ owner: { table: 'teams', id: 't1' }, endsAt: ended, duration: '1d' }])
    expect(dueWindows(levels, NOW - 1)).toEqual([])
  })
})

describe('what a request may cost before it is sent', () => {
  const deployments = [
    toDeployment({ model_name: 'm', litellm_params: { model: 'openai/m', input_cost_per_token: 3e-7, output_cost_per_token: 1e-7 }, model_info: { max_output_tokens: 100 } }, 0),
    toDeployment({ model_name: 'm', litellm_params: { model: 'openai/m2', input_cost_per_token: 1e-7, output_cost_per_token: 2e-7 } }, 1),
  ]
  const target: ModelTarget = { modelGroup: 'm', deployments }

  test('prompt_bound: UTF-8 bytes of message and tool text, +8 per message, non-text parts at 8192', () => {
    expect(promptBound('acompletion', { messages: [{ role: 'user', content: 'hi' }] }, null)).toBe(10)
    expect(promptBound('acompletion', { messages: [{ role: 'user', content: 'héllo' }, { role: 'assistant', content: null }] }, null)).toBe(6 + 8 + 8)
    const parts = [{ type: 'text', text: 'abc' }, { type: 'image_url', image_url: { url: 'data:…' } }]
    expect(promptBound('acompletion', { messages: [{ role: 'user', content: parts }] }, null)).toBe(3 + 8192 + 8)
    expect(promptBound('acompletion', { messages: [{ role: 'user', content: parts }] }, 1000)).toBe(3 + 1000 + 8)
    const tools = [{ type: 'function', function: { name: 'f' } }]
    expect(promptBound('acompletion', { messages: [], tools }, null)).toBe(JSON.stringify(tools).length)
    expect(promptBound('atext_completion', { prompt: ['ab', 'c'] }, null)).toBe(2 + 8 + 1 + 8)
    expect(promptBound('aembedding', { input: [[1, 2, 3]] }, null)).toBe(3 + 8)
  })

  test("max_out: the request's bound, else the model's, else 4096; embeddings produce none", () => {
    expect(maxOut('acompletion', { max_tokens: 7 }, target)).toBe(7)
    expect(maxOut('acompletion', { max_completion_tokens: 9 }, target)).toBe(9)
    expect(maxOut('acompletion', {}, target)).toBe(100)
    expect(maxOut('acompletion', {}, { modelGroup: 'm', deployments: [deployments[1]] })).toBe(4096)
    expect(maxOut('aembedding', { max_tokens: 7 }, target)).toBe(0)
  })

  test("the group's dearest prices make the estimate; free and unpriced groups are told apart", () => {
    const price = groupPrice(target, createPricing())
    expect(price).toEqual({ input: 3e-7, output: 2e-7, free: false, priced: true })
    expect(estimateRequest('acompletion', { messages: [{ role: 'user', content: 'hi' }] }, target, price).total).toBe(10 * 3e-7 + 100 * 2e-7)
    const free = toDeployment({ model_name: 'f', litellm_params: { model: 'openai/f', input_cost_per_token: 0, output_cost_per_token: 0 } }, 2)
    expect(groupPrice({ modelGroup: 'f', deployments: [free] }, createPricing()).free).toBe(true)
    const unknown = toDeployment({ model_name: 'u', litellm_params: { model: 'openai/not-a-known-model' } }, 3)
    expect(groupPrice({ modelGroup: 'mixed', deployments: [free, unknown] }, createPricing())).toMatchObject({ free: false, priced: false })
  })
})
