/**
 * Builds the repositories over one database (or one open transaction). See `../types.ts` for why one
 * implementation serves both engines.
 */
import type { Clock } from '../../lib/clock'
import type { Database } from '../database'
import type { Repositories } from '../ports'
import type { Db } from '../types'
import type { RepositoryContext } from './context'
import { budgetRepository, endUserRepository, tagRepository } from './budgets'
import { archiveRepository, keyRepository, keyRotationRepository } from './keys'
import { auditLogRepository, jobLeaseRepository, settingsRepository } from './platform'
import { dailySpendRepository, settledRequestRepository, spendLogRepository } from './spend'
import { teamMembershipRepository, teamRepository } from './teams'
import { organizationMembershipRepository, organizationRepository, userRepository } from './users'
import { sql } from 'drizzle-orm'

export function createRepositories(database: Database, clock: Clock): Repositories {
  return build({ db: database.db, t: database.tables, dialect: database.dialect, clock })
}

function build(ctx: RepositoryContext): Repositories {
  return {
    teams: teamRepository(ctx),
    memberships: teamMembershipRepository(ctx),
    keys: keyRepository(ctx),
    keyRotations: keyRotationRepository(ctx),
    archive: archiveRepository(ctx),
    users: userRepository(ctx),
    organizations: organizationRepository(ctx),
    organizationMemberships: organizationMembershipRepository(ctx),
    budgets: budgetRepository(ctx),
    endUsers: endUserRepository(ctx),
    tags: tagRepository(ctx),
    spendLogs: spendLogRepository(ctx),
    settledRequests: settledRequestRepository(ctx),
    dailySpend: dailySpendRepository(ctx),
    audit: auditLogRepository(ctx),
    settings: settingsRepository(ctx),
    jobLeases: jobLeaseRepository(ctx),
    transaction: (work) => ctx.db.transaction((tx) => work(build({ ...ctx, db: tx as unknown as Db }))),
    async ping() {
      await ctx.dialect.queryRows(ctx.db, sql`select 1 as ok`)
    },
  }
}
