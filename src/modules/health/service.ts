import type { AppContext } from '../../app-context'
import { formatTimestamp } from '../../lib/time'
import type { SpendBacklog } from '../../spend/engine'

export type ReadinessReport = {
  status: 'connected' | 'unhealthy'
  db: 'connected' | 'Not connected'
  cache: 'redis' | null
  litellm_version: string
  success_callbacks: string[]
  last_updated: string | null
  /** Settlements of this instance not yet written to the database, and the age of the oldest (Tollgate). */
  spend_spool: SpendBacklog
}

export async function readiness(context: Pick<AppContext, 'repos' | 'settings' | 'clock' | 'version' | 'spend'>): Promise<ReadinessReport> {
  const connected = await context.repos.ping().then(
    () => true,
    () => false,
  )
  return {
    status: connected ? 'connected' : 'unhealthy',
    db: connected ? 'connected' : 'Not connected',
    cache: context.settings.redis ? 'redis' : null,
    litellm_version: context.version,
    success_callbacks: [],
    last_updated: formatTimestamp(new Date(context.clock.now())),
    spend_spool: context.spend.backlog(),
  }
}
