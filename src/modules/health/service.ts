import type { AppContext } from '../../app-context'
import { formatTimestamp } from '../../lib/time'
import type { RedisStatus } from '../../observability/observability'
import type { SpendBacklog } from '../../spend/engine'

export type ReadinessReport = {
  status: 'connected' | 'unhealthy'
  db: 'connected' | 'Not connected'
  cache: 'redis' | null
  /** Whether Redis answers (Tollgate); null without Redis. Tollgate keeps serving without it, so never a 503. */
  redis: RedisStatus | null
  litellm_version: string
  success_callbacks: string[]
  last_updated: string | null
  /** Settlements of this instance not yet written to the database, and the age of the oldest (Tollgate). */
  spend_spool: SpendBacklog
}

export async function readiness(
  context: Pick<AppContext, 'repos' | 'settings' | 'clock' | 'version' | 'spend' | 'observability'>,
): Promise<ReadinessReport> {
  const [connected, redis] = await Promise.all([
    context.repos.ping().then(
      () => true,
      () => false,
    ),
    context.observability.redisStatus(),
  ])
  return {
    status: connected ? 'connected' : 'unhealthy',
    db: connected ? 'connected' : 'Not connected',
    cache: context.settings.redis ? 'redis' : null,
    redis,
    litellm_version: context.version,
    success_callbacks: [],
    last_updated: formatTimestamp(new Date(context.clock.now())),
    spend_spool: context.spend.backlog(),
  }
}
