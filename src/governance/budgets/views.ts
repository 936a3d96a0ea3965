/**
 * Spend as management reads show it (§6.6, §6.7): the current window's spend. A window that has ended is
 * turned over first (the same compare-and-set reset as at admission), then this instance's unflushed spend is
 * added to what is stored, so a request is visible at once on the instance that served it.
 *
 * @example const [team] = await context.budgets.current.teams([row])  // /team/info
 */
import type { BudgetRow, EndUserRow, KeyRow, OrganizationRow, Repositories, TagRow, TeamMembershipRow, TeamRow, UserRow } from '../../db/ports'
import type { Clock } from '../../lib/clock'
import type { Logger } from '../../lib/logger'
import type { SpendEngine } from '../../spend/engine'
import { membershipKey, type EntityKind } from '../../spend/increments'
import type { WindowOwner } from './levels'
import type { WindowResets } from './resets'

export type CurrentSpendDeps = {
  readonly repos: Repositories
  readonly spend: Pick<SpendEngine, 'pendingSpend'>
  readonly resets: Pick<WindowResets, 'reset'>
  readonly clock: Clock
  readonly log: Logger
}

type Windowed = { budgetDuration: string | null; budgetResetAt: Date | null }

export type CurrentSpend = {
  keys<R extends KeyRow>(rows: readonly R[]): Promise<R[]>
  teams<R extends TeamRow>(rows: readonly R[]): Promise<R[]>
  users<R extends UserRow>(rows: readonly R[]): Promise<R[]>
  memberships<R extends TeamMembershipRow>(rows: readonly R[]): Promise<R[]>
  organizations<R extends OrganizationRow>(rows: readonly R[]): Promise<R[]>
  endUsers<R extends EndUserRow>(rows: readonly R[]): Promise<R[]>
  tags<R extends TagRow>(rows: readonly R[]): Promise<R[]>
  /** Budget rows whose window has ended are turned over (with every object linked to them). */
  budgetRows<R extends BudgetRow>(rows: readonly R[]): Promise<R[]>
}

export function createCurrentSpend(deps: CurrentSpendDeps): CurrentSpend {
  const { repos, clock, log } = deps
  const due = (row: Windowed) => Boolean(row.budgetDuration && row.budgetResetAt && row.budgetResetAt.getTime() <= clock.now())

  /** Resets the ended windows among `rows`; returns the ids that were due (reset here or elsewhere). */
  async function resetEnded<R extends Windowed>(rows: readonly R[], table: WindowOwner['table'], idOf: (row: R) => string): Promise<Set<string>> {
    const ended = rows.filter(due)
    await Promise.all(
      ended.map((row) =>
        deps.resets
          .reset({ owner: { table, id: idOf(row) }, endsAt: row.budgetResetAt!, duration: row.budgetDuration! })
          .catch((error) => log.warn('lazy budget reset failed', { table, id: idOf(row), error: String(error) })),
      ),
    )
    return new Set(ended.map(idOf))
  }

  /** Rows whose own window ended are re-read after the reset. */
  async function ownWindows<R extends Windowed>(rows: readonly R[], table: WindowOwner['table'], idOf: (row: R) => string, get: (id: string) => Promise<unknown>) {
    const ended = await resetEnded(rows, table, idOf)
    if (ended.size === 0) return [...rows]
    return Promise.all(rows.map(async (row) => (ended.has(idOf(row)) ? (((await get(idOf(row))) as R | null) ?? row) : row)))
  }

  /** Rows whose window lives on a budget row: those rows are turned over first, then the objects re-read. */
  async function linkedWindows<R>(rows: readonly R[], budgetIdOf: (row: R) => string | null, get: (row: R) => Promise<R | null>): Promise<R[]> {
    const budgetIds = [...new Set(rows.map(budgetIdOf).filter((id): id is string => id !== null))]
    if (budgetIds.length === 0) return [...rows]
    const ended = await resetEnded(await repos.budgets.getMany(budgetIds), 'budgets', (row) => row.budgetId)
    if (ended.size === 0) return [...rows]
    return Promise.all(rows.map(async (row) => (ended.has(budgetIdOf(row) ?? '') ? ((await get(row)) ?? row) : row)))
  }

  const plusPending = <R extends { spend: number }>(kind: EntityKind, idOf: (row: R) => string) => (rows: readonly R[]) =>
    rows.map((row) => {
      const pending = deps.spend.pendingSpend(kind, idOf(row))
      return pending === 0 ? row : { ...row, spend: row.spend + pending }
    })

  return {
    async keys(rows) {
      const own = await ownWindows(rows, 'keys', (row) => row.token, (id) => repos.keys.get(id))
      const tiers = await linkedWindows(own, (row) => (row.budgetDuration ? null : row.budgetId), async (row) => (await repos.keys.get(row.token)) as typeof row | null)
      return plusPending<(typeof rows)[number]>('key', (row) => row.token)(tiers)
    },
    async teams(rows) {
      const own = await ownWindows(rows, 'teams', (row) => row.teamId, (id) => repos.teams.get(id))
      return plusPending<(typeof rows)[number]>('team', (row) => row.teamId)(own)
    },
    async users(rows) {
      const own = await ownWindows(rows, 'users', (row) => row.userId, (id) => repos.users.get(id))
      return plusPending<(typeof rows)[number]>('user', (row) => row.userId)(own)
    },
    async memberships(rows) {
      const own = await linkedWindows(rows, (row) => row.budgetId, async (row) => (await repos.memberships.get(row)) as typeof row | null)
      return plusPending<(typeof rows)[number]>('membership', (row) => membershipKey(row.teamId, row.userId))(own)
    },
    async organizations(rows) {
      const own = await linkedWindows(rows, (row) => row.budgetId, async (row) => (await repos.organizations.get(row.organizationId)) as typeof row | null)
      return plusPending<(typeof rows)[number]>('organization', (row) => row.organizationId)(own)
    },
    async endUsers(rows) {
      const own = await linkedWindows(rows, (row) => row.budgetId, async (row) => (await repos.endUsers.get(row.userId)) as typeof row | null)
      return plusPending<(typeof rows)[number]>('end_user', (row) => row.userId)(own)
    },
    async tags(rows) {
      const own = await linkedWindows(rows, (row) => row.budgetId, async (row) => (await repos.tags.get(row.tagName)) as typeof row | null)
      return plusPending<(typeof rows)[number]>('tag', (row) => row.tagName)(own)
    },
    async budgetRows(rows) {
      return ownWindows(rows, 'budgets', (row) => row.budgetId, (id) => repos.budgets.get(id))
    },
  }
}
