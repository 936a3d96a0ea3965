/**
 * One batch of settlements, applied exactly once in one transaction:
 *
 * 1. `settled_requests` marks the batch's request ids; only ids marked for the first time go on. This is the
 *    exactly-once gate, and it does not depend on raw rows: it works with `disable_spend_logs` and after
 *    spend_logs retention has pruned old rows. (A marker costs one small row per request and is pruned after
 *    `SETTLED_MARKER_RETENTION_DAYS`; the alternative, inserting raw rows and deleting them later, would keep
 *    request metadata an operator asked not to keep.)
 * 2. Raw spend_logs rows, unless disabled (`ON CONFLICT DO NOTHING`; with raw rows kept, a row must also be new
 *    there, which keeps replays safe even across a marker pruning).
 * 3. Entity spend, in one fixed order — keys, key-model spend, teams, memberships, users, organizations, end
 *    users, tags, then daily rollups — with rows locked in id order, so instances settling concurrently never
 *    deadlock. Each entity's amounts are folded in settlement order.
 */
import type { Repositories, SpendLogRow } from '../db/ports'
import { addDuration } from '../lib/duration'
import { batchIncrements, batchRollups, PROXY_BUDGET_USER } from './increments'

/** How long a settled request id is remembered: a spool replayed later than this could count twice. */
export const SETTLED_MARKER_RETENTION_DAYS = 30

export type ProxyBudget = { readonly maxBudget: number; readonly budgetDuration: string | null }

export type SettleOptions = {
  /** Keep raw spend_logs rows (false with `general_settings.disable_spend_logs`). */
  readonly keepRawRows: boolean
  /** The global proxy budget, when `litellm_settings.max_budget` is set: its pseudo-user is charged too. */
  readonly proxyBudget: ProxyBudget | null
  readonly now: Date
}

/** Settles `rows` (in spool order); returns the request ids applied now (the others were settled before). */
export async function settleBatch(repos: Repositories, rows: readonly SpendLogRow[], options: SettleOptions): Promise<string[]> {
  const unique = firstOfEachRequest(rows)
  return repos.transaction(async (tx) => {
    let fresh = new Set(await tx.settledRequests.markSettled(unique.map((row) => row.requestId), options.now))
    if (options.keepRawRows) {
      const inserted = new Set(await tx.spendLogs.insertMany(unique.filter((row) => fresh.has(row.requestId))))
      fresh = new Set([...fresh].filter((id) => inserted.has(id)))
    }
    const apply = unique.filter((row) => fresh.has(row.requestId))
    if (apply.length === 0) return []

    const increments = batchIncrements(apply, { proxyBudget: options.proxyBudget !== null })
    if (options.proxyBudget && increments.users.some((user) => user.id === PROXY_BUDGET_USER)) {
      await ensureProxyBudgetUser(tx, options.proxyBudget, options.now)
    }
    await tx.keys.addSpendInOrder(increments.keys)
    await tx.keys.addModelSpendInOrder(increments.keyModels)
    await tx.teams.addSpendInOrder(increments.teams)
    await tx.memberships.addSpendInOrder(increments.memberships)
    await tx.users.addSpendInOrder(increments.users)
    await tx.organizations.addSpendInOrder(increments.organizations)
    await tx.endUsers.ensureExist(increments.endUsersSeen, options.now)
    await tx.endUsers.addSpendInOrder(increments.endUsers)
    await tx.tags.addSpendInOrder(increments.tags)
    await tx.dailySpend.increment(batchRollups(apply))
    return apply.map((row) => row.requestId)
  })
}

/** A request id twice in one batch (a retried record) is one request: the first row wins. */
function firstOfEachRequest(rows: readonly SpendLogRow[]): SpendLogRow[] {
  const seen = new Set<string>()
  return rows.filter((row) => {
    if (seen.has(row.requestId)) return false
    seen.add(row.requestId)
    return true
  })
}

/**
 * The global budget's pseudo-user, created on its first charge. Two instances creating it at once: one insert
 * fails with a unique violation, its batch rolls back and is retried, and then finds the row.
 */
async function ensureProxyBudgetUser(tx: Repositories, budget: ProxyBudget, now: Date): Promise<void> {
  if (await tx.users.get(PROXY_BUDGET_USER)) return
  await tx.users.insert(proxyBudgetUserRow(budget, now))
}

/** The pseudo-user's row for a global budget, its first window starting `now`. */
export function proxyBudgetUserRow(budget: ProxyBudget, now: Date) {
  return {
    userId: PROXY_BUDGET_USER,
    // No key and no password: it can never sign in; the least-privileged role all the same.
    userRole: 'internal_user',
    models: [],
    metadata: { description: 'global proxy budget (litellm_settings.max_budget)' },
    maxBudget: budget.maxBudget,
    budgetDuration: budget.budgetDuration,
    budgetResetAt: budget.budgetDuration ? addDuration(now, budget.budgetDuration) : null,
    createdAt: now,
    updatedAt: now,
  }
}
