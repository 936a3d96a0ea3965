/**
 * Soft budgets (§6.4) never refuse. The settlement whose cost carries a level's committed spend from below its
 * `soft_budget` to at or above it logs a warning, counts `tollgate_soft_budget_crossed_total{level}` and, with
 * `general_settings.alert_to_webhook_url`, POSTs LiteLLM's `WebhookEvent`. Once per crossing and window: the
 * counter increment that crosses is seen by one settlement only (shared counters), and this instance remembers
 * the windows it alerted for.
 */
import type { Logger } from '../../lib/logger'
import type { Metrics } from '../../metrics/registry'
import type { UsageRecord } from '../../usage/record'
import type { LevelBudget } from './levels'

/** LiteLLM's `event_group` per level (organization and tag have none there; they are named as they are). */
const EVENT_GROUP: Record<LevelBudget['level'], string> = {
  key: 'key',
  key_model: 'key',
  team: 'team',
  team_member: 'team',
  user: 'internal_user',
  organization: 'organization',
  end_user: 'customer',
  tag: 'tag',
  proxy: 'proxy',
}

const WEBHOOK_TIMEOUT_MS = 5_000
const REMEMBERED_CROSSINGS = 10_000

export type SoftBudgetAlerts = {
  /** Called with a level's committed spend right after a settlement added `amount` to it. */
  settled(level: LevelBudget, window: string, spend: number, amount: number, record: UsageRecord): void
}

/** LiteLLM's `WebhookEvent` (CallInfo + event, event_message) for a crossed soft budget. */
export function softBudgetEvent(level: LevelBudget, spend: number, record: UsageRecord) {
  return {
    event: 'soft_budget_crossed',
    event_group: EVENT_GROUP[level.level],
    event_message: `Soft Budget Crossed: ${level.level}=${level.id}. Spend ${spend} >= soft budget ${level.softBudget}`,
    spend,
    max_budget: level.maxBudget,
    soft_budget: level.softBudget,
    token: record.keyHash || null,
    key_alias: record.keyAlias,
    user_id: record.userId,
    team_id: record.teamId,
    team_alias: record.teamAlias,
    organization_id: record.organizationId,
    customer_id: record.endUser,
    user_email: null,
    projected_exceeded_date: null,
    projected_spend: null,
  }
}

export function createSoftBudgetAlerts(deps: { log: Logger; metrics: Pick<Metrics, 'softBudgetCrossed'>; webhookUrl: string | null }): SoftBudgetAlerts {
  const alerted = new Set<string>()
  return {
    settled(level, window, spend, amount, record) {
      const soft = level.softBudget
      if (soft === null || amount <= 0 || spend < soft || spend - amount >= soft) return
      const id = `${level.level}\n${level.id}\n${window}`
      if (alerted.has(id)) return
      if (alerted.size >= REMEMBERED_CROSSINGS) alerted.clear()
      alerted.add(id)
      deps.log.warn('soft budget crossed', { level: level.level, id: level.id, spend, soft_budget: soft, max_budget: level.maxBudget })
      deps.metrics.softBudgetCrossed.inc({ level: level.level })
      if (!deps.webhookUrl) return
      const url = deps.webhookUrl
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(softBudgetEvent(level, spend, record)),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      })
        .then((response) => {
          if (!response.ok) deps.log.warn('soft budget webhook answered with an error', { status: response.status })
        })
        .catch((error) => deps.log.warn('soft budget webhook failed', { error: String(error) }))
    },
  }
}
