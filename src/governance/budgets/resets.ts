/**
 * Turning a budget window over (§6.7): spend 0 and `budget_reset_at = reset moment + duration`, with a
 * compare-and-set on the old `budget_reset_at` so exactly one actor (a lazy reset at admission or on a
 * management read, or the sweeper, on any instance) resets a window. One transaction per window owner, with
 * everything whose window it is:
 *
 * - a team: the memberships that follow the team's window;
 * - a budget row: every object linked to it (organizations, end users, tags, memberships, keys without a
 *   window of their own), the members of teams whose default member row it is, and, when it is
 *   `max_end_user_budget_id`, the end users without a row of their own.
 *
 * This instance's unflushed spend is written first, so what was recorded before the reset stays in the old
 * window. Committed commits are published as cache invalidations (budget gauges listen to them too); the
 * counters need none, being keyed by window.
 */
import type { Invalidation, Invalidator } from '../../cache/invalidation'
import type { Repositories } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import { addDuration } from '../../lib/duration'
import type { Logger } from '../../lib/logger'
import { keyInvalidations } from '../../modules/keys/key-rows'
import { restartInheritedWindows } from '../../modules/teams/memberships'
import type { SpendEngine } from '../../spend/engine'
import type { BudgetWindow, WindowOwner } from './levels'

export type WindowResetDeps = {
  readonly repos: Repositories
  readonly invalidator: Invalidator
  readonly clock: Clock
  readonly log: Logger
  readonly spend: Pick<SpendEngine, 'flush'>
  /** `litellm_settings.max_end_user_budget_id`: its window is every end user's without a row of their own. */
  readonly defaultEndUserBudgetId: string | null
}

const CACHE_KIND = { keys: 'keys', teams: 'teams', users: 'users', budgets: 'budgets' } as const

export class WindowResets {
  /** One attempt per window at a time on this instance: concurrent lazy resets of a window share it. */
  private readonly running = new Map<string, Promise<boolean>>()

  constructor(private readonly deps: WindowResetDeps) {}

  /** Resets the window if it is still the one that ended; returns whether this call reset it. */
  reset(window: BudgetWindow): Promise<boolean> {
    const id = `${window.owner.table}:${window.owner.id}:${window.endsAt.getTime()}`
    let attempt = this.running.get(id)
    if (!attempt) {
      attempt = this.run(window).finally(() => this.running.delete(id))
      this.running.set(id, attempt)
    }
    return attempt
  }

  private async run(window: BudgetWindow): Promise<boolean> {
    const { repos, invalidator, clock, log } = this.deps
    await this.deps.spend.flush()
    const now = new Date(clock.now())
    const next = addDuration(now, window.duration)
    const invalidations = await repos.transaction((tx) => this.resetOwner(tx, window.owner, window.endsAt, next))
    if (invalidations === null) {
      // Someone else turned it over (or changed the window): our snapshot is stale.
      await invalidator.publish({ kind: CACHE_KIND[window.owner.table], id: window.owner.id })
      return false
    }
    await invalidator.publish(...invalidations)
    log.info('budget window reset', { table: window.owner.table, id: window.owner.id, budget_reset_at: next.toISOString() })
    return true
  }

  /** The CAS and its cascade; null when the window was not the expected one any more. */
  private async resetOwner(tx: Repositories, owner: WindowOwner, expected: Date, next: Date): Promise<Invalidation[] | null> {
    switch (owner.table) {
      case 'keys':
        return (await tx.keys.resetWindow(owner.id, expected, next)) ? keyInvalidations(tx, owner.id) : null
      case 'users':
        return (await tx.users.resetWindow(owner.id, expected, next)) ? [{ kind: 'users', id: owner.id }] : null
      case 'teams': {
        if (!(await tx.teams.resetWindow(owner.id, expected, next))) return null
        const team = (await tx.teams.get(owner.id))!
        return [{ kind: 'teams', id: owner.id }, ...(await restartInheritedWindows(tx, team, 'team'))]
      }
      case 'budgets': {
        if (!(await tx.budgets.resetWindow(owner.id, expected, next))) return null
        await tx.budgets.resetLinkedSpend(owner.id)
        const invalidations: Invalidation[] = [{ kind: 'budgets', id: owner.id }]
        for (const team of (await tx.teams.list({ teamMemberBudgetId: owner.id })).rows) {
          invalidations.push(...(await restartInheritedWindows(tx, team, 'member_default')))
        }
        if (owner.id === this.deps.defaultEndUserBudgetId) await tx.endUsers.resetSpendWithoutBudget()
        return invalidations
      }
    }
  }
}
