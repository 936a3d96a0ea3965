import { describe, expect, test } from 'bun:test'
import { decideDefault, decideStrict, largestFittingOutput, type CappedState } from './decide'
import type { LevelBudget } from './levels'
import { budgetExceeded, budgetExceededMessage, budgetWaitTimedOut } from './refusal'

const level = (fields: Partial<LevelBudget> & { maxBudget: number }): CappedState['level'] => ({
  level: 'team',
  id: 't1',
  softBudget: null,
  source: { kind: 'team', id: 't1' },
  window: null,
  version: 1,
  prefix: '',
  ...fields,
})
const state = (maxBudget: number, committed: number, held = 0, fields: Partial<Omit<LevelBudget, 'maxBudget'>> = {}): CappedState => ({
  level: level({ ...fields, maxBudget }),
  committed,
  held,
})

describe('default mode', () => {
  test('a first request at spend 0 is admitted whatever its estimate; spend >= max_budget is refused', () => {
    expect(decideDefault([state(1e-9, 0)]).kind).toBe('admit')
    expect(decideDefault([state(1e-9, 3.5e-6)])).toMatchObject({ kind: 'refuse', state: { committed: 3.5e-6 } })
    expect(decideDefault([state(10, 10)]).kind).toBe('refuse')
  })

  test('in-flight estimates that reach the cap make the next request wait; the first over-budget level wins', () => {
    expect(decideDefault([state(10, 4, 5)]).kind).toBe('admit')
    expect(decideDefault([state(10, 4, 6)])).toMatchObject({ kind: 'wait' })
    const decision = decideDefault([state(10, 1, 9, { level: 'key' }), state(5, 5, 0, { level: 'team' }), state(1, 2, 0, { level: 'user' })])
    expect(decision).toMatchObject({ kind: 'refuse', state: { level: { level: 'team' } } })
  })
})

describe('strict mode', () => {
  const worst = { prompt: 10 * 3e-7, outputPrice: 1e-7, maxOut: 4096 }

  test('the worst case is reserved when it fits everywhere', () => {
    expect(decideStrict([state(1, 0)], worst)).toEqual({ kind: 'reserve', amount: worst.prompt + 4096 * 1e-7, cappedMaxTokens: null })
  })

  test('with reservations outstanding at a level it does not fit, the request waits', () => {
    expect(decideStrict([state(1e-4, 0, 5e-5)], worst)).toMatchObject({ kind: 'wait' })
  })

  test('with nothing outstanding, the output is capped to the largest number of tokens that fits', () => {
    const decision = decideStrict([state(3.5e-5, 0)], worst)
    expect(decision).toMatchObject({ kind: 'reserve', cappedMaxTokens: 320 })
    if (decision.kind !== 'reserve') throw new Error('not reserved')
    expect(decision.amount).toBeLessThanOrEqual(3.5e-5)
    expect(worst.prompt + 321 * worst.outputPrice).toBeGreaterThan(3.5e-5)
  })

  test('not even one output token fits: refused with the committed spend', () => {
    expect(decideStrict([state(3.5e-5, 3.5e-5 - 3e-6)], worst)).toMatchObject({ kind: 'refuse', state: { committed: 3.5e-5 - 3e-6 } })
    expect(decideStrict([state(1, 1)], worst).kind).toBe('refuse')
  })

  test('the cap is exact at the boundary and never exceeds any level', () => {
    const states = [state(0.3, 0.1, 0), state(0.25, 0.05, 0, { level: 'user' })]
    const tokens = largestFittingOutput(states, { prompt: 0.01, outputPrice: 0.001, maxOut: 10_000 })
    const fitsAll = (n: number) => states.every((s) => s.committed + s.held + (0.01 + n * 0.001) <= s.level.maxBudget)
    // ~190 on paper; the largest n whose double-precision sum still fits both levels.
    expect(tokens).toBeGreaterThanOrEqual(189)
    expect(fitsAll(tokens)).toBe(true)
    expect(fitsAll(tokens + 1)).toBe(false)
    expect(largestFittingOutput([state(1, 0)], { prompt: 0.5, outputPrice: 0, maxOut: 77 })).toBe(77)
    expect(largestFittingOutput([state(1, 0.6)], { prompt: 0.5, outputPrice: 0, maxOut: 77 })).toBe(0)
  })
})

describe('refusals', () => {
  test("seed 003's message, and the level prefixes LiteLLM's messages carry", () => {
    expect(budgetExceededMessage({ prefix: '' }, 3.5e-6, 1e-9)).toBe('Budget has been exceeded! Current cost: 3.5e-06, Max budget: 1e-09')
    expect(budgetExceededMessage({ prefix: 'User=u1 in Team=t1 ' }, 100, 100)).toBe('Budget has been exceeded! User=u1 in Team=t1 Current cost: 100.0, Max budget: 100.0')
    expect(budgetExceededMessage({ prefix: 'Organization=o1 ' }, 1e-5, 1e-5)).toBe('Budget has been exceeded! Organization=o1 Current cost: 1e-05, Max budget: 1e-05')
    expect(budgetExceededMessage({ prefix: 'Tag=prod ' }, 4.9999999999999996e-6, 0.0001)).toBe(
      'Budget has been exceeded! Tag=prod Current cost: 4.9999999999999996e-06, Max budget: 0.0001',
    )
  })

  test('a refusal is 400 auth_error naming the level in x-tollgate-budget-scope; a wait timeout is 429 with Retry-After 1', () => {
    const refusal = budgetExceeded(level({ level: 'key', maxBudget: 1 }), 2)
    expect([refusal.httpStatus, refusal.errorType, refusal.param, refusal.headers['x-tollgate-budget-scope']]).toEqual([400, 'auth_error', null, 'key'])
    const timeout = budgetWaitTimedOut(level({ maxBudget: 1 }))
    expect([timeout.httpStatus, timeout.errorType, timeout.message, timeout.headers['retry-after']]).toEqual([
      429,
      'rate_limit_error',
      'Budget admission timed out for team: t1; requests in flight',
      '1',
    ])
  })
})
