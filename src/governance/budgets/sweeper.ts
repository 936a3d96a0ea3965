/**
 * The budget sweeper (§6.7, pitfalls 4 and 7): every second (bounded by
 * `proxy_budget_rescheduler_min_time/max_time` when set) the instance holding the `budget-sweeper` lease turns
 * over every window that has ended — keys, teams, users (the global budget's pseudo-user among them) and budget
 * rows (and with them organizations, end users, tags, memberships and key tiers). Each window is reset on its
 * own with a compare-and-set; one failure is logged and retried on the next tick, never aborting the others.
 */
import type { Repositories } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import type { BudgetWindow, WindowOwner } from './levels'
import type { WindowResets } from './resets'

export const SWEEPER_LEASE = 'budget-sweeper'
const ROWS_PER_QUERY = 200
/** Pages per table and tick: a backlog (after downtime) is worked off over a few ticks, not in one burst. */
const MAX_PAGES = 10

export type SweepResult = { leader: boolean; reset: number; failed: number }

export type SweeperDeps = {
  readonly repos: Repositories
  readonly resets: Pick<WindowResets, 'reset'>
  readonly clock: Clock
  readonly log: Logger
  /** This instance's name in the lease. */
  readonly holder: string
  readonly intervalMs: number
  /** Runs once per tick on the leader before the sweep (the global budget's pseudo-user). */
  readonly beforeSweep?: () => Promise<void>
}

type WindowRow = { budgetDuration: string | null; budgetResetAt: Date | null }

/** `proxy_budget_rescheduler_min_time/max_time` (seconds) bound the one-second tick. */
export function sweepIntervalMs(minSeconds: number | undefined, maxSeconds: number | undefined): number {
  let seconds = 1
  if (minSeconds !== undefined) seconds = Math.max(seconds, minSeconds)
  if (maxSeconds !== undefined) seconds = Math.min(seconds, maxSeconds)
  return seconds * 1000
}

export function createBudgetSweeper(deps: SweeperDeps) {
  const { repos, clock, log } = deps
  let timer: ReturnType<typeof setInterval> | null = null
  let running: Promise<SweepResult> | null = null
  const failing = new Set<string>()

  const tables: Array<{ table: WindowOwner['table']; due: (now: Date) => Promise<Array<WindowRow & { id: string }>> }> = [
    { table: 'keys', due: async (now) => (await repos.keys.dueForReset(now, ROWS_PER_QUERY)).map((row) => ({ ...row, id: row.token })) },
    { table: 'teams', due: async (now) => (await repos.teams.dueForReset(now, ROWS_PER_QUERY)).map((row) => ({ ...row, id: row.teamId })) },
    { table: 'users', due: async (now) => (await repos.users.dueForReset(now, ROWS_PER_QUERY)).map((row) => ({ ...row, id: row.userId })) },
    { table: 'budgets', due: async (now) => (await repos.budgets.dueForReset(now, ROWS_PER_QUERY)).map((row) => ({ ...row, id: row.budgetId })) },
  ]

  async function sweepTable(entry: (typeof tables)[number], result: SweepResult): Promise<void> {
    const skipped = new Set<string>()
    for (let page = 0; page < MAX_PAGES; page++) {
      const rows = (await entry.due(new Date(clock.now()))).filter((row) => !skipped.has(row.id))
      if (rows.length === 0) return
      for (const row of rows) {
        const where = `${entry.table}:${row.id}`
        skipped.add(row.id)
        // A window end without a duration (set by hand on a budget row) has no next window.
        if (!row.budgetDuration || !row.budgetResetAt) continue
        const window: BudgetWindow = { owner: { table: entry.table, id: row.id }, endsAt: row.budgetResetAt, duration: row.budgetDuration }
        try {
          if (await deps.resets.reset(window)) result.reset++
          failing.delete(where)
        } catch (error) {
          result.failed++
          // Logged once per failing window, not every second; retried on every tick.
          if (!failing.has(where)) log.error('budget window reset failed; retrying', { table: entry.table, id: row.id, error: String(error) })
          failing.add(where)
        }
      }
      if (rows.length < ROWS_PER_QUERY) return
    }
  }

  async function sweep(): Promise<SweepResult> {
    const result: SweepResult = { leader: false, reset: 0, failed: 0 }
    const now = new Date(clock.now())
    if (!(await repos.jobLeases.acquire(SWEEPER_LEASE, deps.holder, now, Math.max(5_000, deps.intervalMs * 3)))) return result
    result.leader = true
    await deps.beforeSweep?.()
    for (const entry of tables) await sweepTable(entry, result)
    return result
  }

  return {
    /** One tick now (tests with a manual clock); concurrent calls share the tick in progress. */
    runOnce(): Promise<SweepResult> {
      running ??= sweep().finally(() => {
        running = null
      })
      return running
    },
    start(): void {
      if (timer) return
      timer = setInterval(() => {
        if (running) return
        void this.runOnce().catch((error) => log.warn('budget sweep failed', { error: String(error) }))
      }, deps.intervalMs)
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer)
      timer = null
      await running?.catch(() => {})
      await repos.jobLeases.release(SWEEPER_LEASE, deps.holder).catch(() => {})
    },
  }
}

export type BudgetSweeper = ReturnType<typeof createBudgetSweeper>
