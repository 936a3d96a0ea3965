/**
 * The budget gauges of §10 — remaining and max budget per team, key, user and organization, and the hours
 * until a team's or key's window resets — kept in memory so that a scrape never touches the database.
 *
 * They are set from the stored rows, plus this instance's unflushed spend, when something changes:
 * - a management change or a budget reset: its cache invalidation (`invalidated`, local or from another
 *   instance) re-reads the object's row;
 * - a settlement: `afterSettlement(rows)` re-reads the spend of the keys, teams, users and organizations the
 *   batch charged, one query per kind per batch;
 * - every 5 minutes (and at start) `refreshAll` re-reads everything, which also catches changes made where no
 *   invalidation reached this instance (another instance's spend); `/global/spend/reset` asks for one at once.
 * Remaining = max_budget − spend (negative once over; +Inf without a cap).
 */
import type { EntityCaches } from '../cache/entity-caches'
import type { Invalidation } from '../cache/invalidation'
import type { BudgetRow, KeyRow, OrganizationRow, Repositories, SpendLogRow, TeamRow, UserRow } from '../db/ports'
import type { Clock } from '../lib/clock'
import type { Logger } from '../lib/logger'
import { teamLabels, type Metrics } from '../metrics/registry'
import type { EntityKind } from '../spend/increments'
import { sortedLabels } from './labels'

export const BUDGET_REFRESH_INTERVAL_MS = 5 * 60_000
const PAGE = 1000
const HOUR_MS = 3_600_000

export type BudgetGaugeDeps = {
  metrics: Metrics
  repos: Repositories
  caches: EntityCaches
  clock: Clock
  log: Logger
  /** This instance's spend that is spooled but not yet in the database (`SpendEngine.pendingSpend`). */
  pendingSpend(kind: EntityKind, id: string): number
  refreshIntervalMs?: number
}

type Series<L> = { labels: L; resetAt: number | null; budgetId: string | null }
type TeamSeries = Series<ReturnType<typeof teamLabels>>
type KeySeries = Series<{ api_key_alias: string; hashed_api_key: string }>
type UserSeries = Series<{ user: string }>
type OrgSeries = Series<{ organization_alias: string; organization_id: string }>

const remaining = (max: number | null, spend: number) => (max === null ? Infinity : max - spend)
const sameLabels = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).every((name) => a[name] === b[name])
const unique = (values: Iterable<string | null>) => [...new Set([...values].filter((value): value is string => Boolean(value)))]

export class BudgetGauges {
  private readonly teams = new Map<string, TeamSeries>()
  private readonly keys = new Map<string, KeySeries>()
  private readonly users = new Map<string, UserSeries>()
  private readonly organizations = new Map<string, OrgSeries>()
  private readonly inFlight = new Set<Promise<void>>()
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(private readonly deps: BudgetGaugeDeps) {}

  /** Loads every object's gauges, then refreshes them every 5 minutes. */
  start(): void {
    this.refreshInBackground()
    this.timer ??= setInterval(() => this.refreshInBackground(), this.deps.refreshIntervalMs ?? BUDGET_REFRESH_INTERVAL_MS)
  }

  /** Stops the refresh. Updates in flight are not awaited: a slow database must not hold up a shutdown. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Re-reads everything in the background (after a change that touches every object: `/global/spend/reset`). */
  refreshInBackground(): void {
    void this.track(this.refreshAll())
  }

  /** Resolves once every update started so far has finished (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight)
  }

  /**
   * After a cache invalidation: the object changed (created, updated, reset, deleted). Its row is read from the
   * repository, not through the entity caches: filling the cache entry that was just evicted would change what
   * the data plane's caches hold, and the data plane loads it on its next use anyway.
   */
  invalidated(message: Invalidation): void {
    const { repos } = this.deps
    const { id } = message
    switch (message.kind) {
      case 'teams':
        void this.track(repos.teams.get(id).then((row) => (row ? this.setTeam(row) : this.removeTeam(id))))
        return
      case 'users':
        void this.track(repos.users.get(id).then((row) => (row ? this.setUser(row) : this.removeUser(id))))
        return
      case 'keys':
        void this.track(this.reloadKey(id))
        return
      case 'organizations':
        void this.track(this.reloadOrganization(id))
        return
      case 'budgets':
        // A tier or an organization's budget row: its max and window apply to every object linked to it.
        void this.track(this.reloadLinkedTo(id))
        return
      default:
    }
  }

  /** After a committed settlement batch: re-read the stored spend of what it charged. */
  afterSettlement(rows: readonly SpendLogRow[]): Promise<void> {
    const charged = rows.filter((row) => row.spend !== 0)
    if (charged.length === 0) return Promise.resolve()
    const { repos } = this.deps
    return this.track(
      Promise.all([
      repos.teams.getMany(unique(charged.map((row) => row.teamId))).then((found) => found.forEach((row) => this.setTeam(row))),
      repos.users.getMany(unique(charged.map((row) => row.userId))).then((found) => found.forEach((row) => this.setUser(row))),
      repos.keys.getMany(unique(charged.map((row) => row.apiKey))).then((found) => Promise.all(found.map((row) => this.setKeyWithTier(row)))),
      repos.organizations
        .getMany(unique(charged.map((row) => row.organizationId)))
          .then((found) => Promise.all(found.map((row) => this.setOrganizationWithBudget(row)))),
      ]),
    )
  }

  /** Every team, key, user and organization from the database; series of objects that are gone are removed. */
  async refreshAll(): Promise<void> {
    const { repos } = this.deps
    const before = {
      teams: new Set(this.teams.keys()),
      keys: new Set(this.keys.keys()),
      users: new Set(this.users.keys()),
      organizations: new Set(this.organizations.keys()),
    }
    const budgets = new Map((await repos.budgets.list()).map((row) => [row.budgetId, row]))
    for await (const row of pages((page) => repos.teams.list({}, page))) {
      before.teams.delete(row.teamId)
      this.setTeam(row)
    }
    for await (const row of pages((page) => repos.keys.list({}, page))) {
      before.keys.delete(row.token)
      this.setKey(row, row.budgetId ? (budgets.get(row.budgetId) ?? null) : null)
    }
    for await (const row of pages((page) => repos.users.list({}, page))) {
      before.users.delete(row.userId)
      this.setUser(row)
    }
    for (const row of await repos.organizations.list({})) {
      before.organizations.delete(row.organizationId)
      this.setOrganization(row, budgets.get(row.budgetId) ?? null)
    }
    before.teams.forEach((id) => this.removeTeam(id))
    before.keys.forEach((id) => this.removeKey(id))
    before.users.forEach((id) => this.removeUser(id))
    before.organizations.forEach((id) => this.removeOrganization(id))
  }

  /** Hours until each team's and key's window ends, as of now (called before every scrape). */
  refreshHours(): void {
    const { metrics } = this.deps
    const now = this.deps.clock.now()
    for (const series of this.teams.values()) {
      if (series.resetAt !== null) metrics.teamBudgetRemainingHours.set(series.labels, Math.max(0, series.resetAt - now) / HOUR_MS)
    }
    for (const series of this.keys.values()) {
      if (series.resetAt !== null) metrics.keyBudgetRemainingHours.set(series.labels, Math.max(0, series.resetAt - now) / HOUR_MS)
    }
  }

  setTeam(row: TeamRow): void {
    const { metrics } = this.deps
    const labels = teamLabels(row.teamId, row.teamAlias)
    const series = this.replace(this.teams, row.teamId, labels, () => this.removeTeam(row.teamId))
    series.resetAt = row.budgetResetAt?.getTime() ?? null
    const spend = row.spend + this.deps.pendingSpend('team', row.teamId)
    metrics.remainingTeamBudget.set(labels, remaining(row.maxBudget, spend))
    setOrRemove(metrics.teamMaxBudget, labels, row.maxBudget)
    setOrRemove(metrics.teamBudgetRemainingHours, labels, hoursUntil(series.resetAt, this.deps.clock.now()))
  }

  /** A key's cap is its own `max_budget`, else its budget tier's (§6.4); so is its window. */
  setKey(row: KeyRow, tier: BudgetRow | null): void {
    const { metrics } = this.deps
    const labels = sortedLabels({ hashed_api_key: row.token, api_key_alias: row.keyAlias ?? '' })
    const series = this.replace(this.keys, row.token, labels, () => this.removeKey(row.token))
    series.budgetId = row.budgetId
    series.resetAt = (row.budgetResetAt ?? tier?.budgetResetAt)?.getTime() ?? null
    const max = row.maxBudget ?? tier?.maxBudget ?? null
    const spend = row.spend + this.deps.pendingSpend('key', row.token)
    metrics.remainingKeyBudget.set(labels, remaining(max, spend))
    setOrRemove(metrics.keyMaxBudget, labels, max)
    setOrRemove(metrics.keyBudgetRemainingHours, labels, hoursUntil(series.resetAt, this.deps.clock.now()))
  }

  setUser(row: UserRow): void {
    const { metrics } = this.deps
    const labels = { user: row.userId }
    this.replace(this.users, row.userId, labels, () => this.removeUser(row.userId))
    const spend = row.spend + this.deps.pendingSpend('user', row.userId)
    metrics.remainingUserBudget.set(labels, remaining(row.maxBudget, spend))
    setOrRemove(metrics.userMaxBudget, labels, row.maxBudget)
  }

  /** An organization's cap lives on its budget row. */
  setOrganization(row: OrganizationRow, budget: BudgetRow | null): void {
    const { metrics } = this.deps
    const labels = sortedLabels({ organization_id: row.organizationId, organization_alias: row.organizationAlias ?? '' })
    const series = this.replace(this.organizations, row.organizationId, labels, () => this.removeOrganization(row.organizationId))
    series.budgetId = row.budgetId
    const max = budget?.maxBudget ?? null
    const spend = row.spend + this.deps.pendingSpend('organization', row.organizationId)
    metrics.remainingOrgBudget.set(labels, remaining(max, spend))
    setOrRemove(metrics.orgMaxBudget, labels, max)
  }

  private removeTeam(id: string): void {
    const { metrics } = this.deps
    drop(this.teams, id, [metrics.remainingTeamBudget, metrics.teamMaxBudget, metrics.teamBudgetRemainingHours])
  }

  private removeKey(id: string): void {
    const { metrics } = this.deps
    drop(this.keys, id, [metrics.remainingKeyBudget, metrics.keyMaxBudget, metrics.keyBudgetRemainingHours])
  }

  private removeUser(id: string): void {
    drop(this.users, id, [this.deps.metrics.remainingUserBudget, this.deps.metrics.userMaxBudget])
  }

  private removeOrganization(id: string): void {
    drop(this.organizations, id, [this.deps.metrics.remainingOrgBudget, this.deps.metrics.orgMaxBudget])
  }

  /** The object's series entry, dropping its old series first when its labels (an alias) changed. */
  private replace<L extends Record<string, string>>(map: Map<string, Series<L>>, id: string, labels: L, remove: () => void): Series<L> {
    const current = map.get(id)
    if (current && sameLabels(current.labels, labels)) return current
    if (current) remove()
    const fresh: Series<L> = { labels, resetAt: null, budgetId: null }
    map.set(id, fresh)
    return fresh
  }

  /** Budget rows after a settlement come from the cache (unchanged by spend); after a change, from the database. */
  private budgetRow(id: string | null, fresh: boolean): Promise<BudgetRow | null> {
    if (!id) return Promise.resolve(null)
    return fresh ? this.deps.repos.budgets.get(id) : this.deps.caches.budgets.get(id)
  }

  private async setKeyWithTier(row: KeyRow, fresh = false): Promise<void> {
    this.setKey(row, await this.budgetRow(row.budgetId, fresh))
  }

  private async setOrganizationWithBudget(row: OrganizationRow, fresh = false): Promise<void> {
    this.setOrganization(row, await this.budgetRow(row.budgetId, fresh))
  }

  /** A hash without a key (deleted, or rotated out: the new hash is invalidated too) loses its series. */
  private async reloadKey(hash: string): Promise<void> {
    const row = await this.deps.repos.keys.get(hash)
    if (row) await this.setKeyWithTier(row, true)
    else this.removeKey(hash)
  }

  private async reloadOrganization(id: string): Promise<void> {
    const row = await this.deps.repos.organizations.get(id)
    if (row) await this.setOrganizationWithBudget(row, true)
    else this.removeOrganization(id)
  }

  private async reloadLinkedTo(budgetId: string): Promise<void> {
    const keys = [...this.keys.entries()].filter(([, series]) => series.budgetId === budgetId).map(([id]) => id)
    const organizations = [...this.organizations.entries()].filter(([, series]) => series.budgetId === budgetId).map(([id]) => id)
    await Promise.all([...keys.map((id) => this.reloadKey(id)), ...organizations.map((id) => this.reloadOrganization(id))])
  }

  /** Runs `work` in the background: counted by `idle`, a failure logged (the next update or refresh repairs it). */
  private track(work: Promise<unknown>): Promise<void> {
    const tracked: Promise<void> = work.then(
      () => {},
      (error) => this.deps.log.warn('updating budget gauges failed', { error: String(error) }),
    )
    this.inFlight.add(tracked)
    void tracked.finally(() => this.inFlight.delete(tracked))
    return tracked
  }
}

/** Forgets an object and removes its series from each of its gauges. */
function drop<L>(map: Map<string, Series<L>>, id: string, gauges: ReadonlyArray<{ remove(labels: L): void }>): void {
  const series = map.get(id)
  if (!series) return
  map.delete(id)
  for (const gauge of gauges) gauge.remove(series.labels)
}

function hoursUntil(resetAt: number | null, now: number): number | null {
  return resetAt === null ? null : Math.max(0, resetAt - now) / HOUR_MS
}

function setOrRemove<L extends string>(gauge: { set(labels: Partial<Record<L, string>>, value: number): void; remove(labels: Partial<Record<L, string>>): void }, labels: Partial<Record<L, string>>, value: number | null): void {
  if (value === null) gauge.remove(labels)
  else gauge.set(labels, value)
}

async function* pages<T>(load: (page: { offset: number; limit: number }) => Promise<{ rows: T[] }>): AsyncGenerator<T> {
  for (let offset = 0; ; offset += PAGE) {
    const { rows } = await load({ offset, limit: PAGE })
    yield* rows
    if (rows.length < PAGE) return
  }
}
