import { and, asc, count, eq, inArray, isNull } from 'drizzle-orm'
import type { MembershipId, TeamInsert, TeamMembershipInsert, TeamMembershipRepository, TeamMembershipRow, TeamRepository, TeamRow } from '../ports'
import { nowOf, type RepositoryContext } from './context'
import { addSpend, addSpendInOrder, budgetWindows, entityRepository, rowOperations, zeroAllSpend } from './entity'
import { increment } from './expressions'

export function teamRepository(ctx: RepositoryContext): TeamRepository {
  const { db, t } = ctx
  return {
    ...entityRepository<TeamRow, TeamInsert>(ctx, t.teams, t.teams.teamId),
    addSpend: addSpend(ctx, t.teams, t.teams.teamId),
    addSpendInOrder: addSpendInOrder<string>(ctx, t.teams, [t.teams.teamId], (id) => [id]),
    zeroAllSpend: zeroAllSpend(ctx, t.teams),
    ...budgetWindows<TeamRow>(ctx, t.teams, t.teams.teamId),
    async list(filter, page) {
      const conditions = []
      if (filter.organizationId === null) conditions.push(isNull(t.teams.organizationId))
      else if (filter.organizationId !== undefined) conditions.push(eq(t.teams.organizationId, filter.organizationId))
      if (filter.teamAlias !== undefined) conditions.push(ctx.dialect.containsIgnoringCase(t.teams.teamAlias, filter.teamAlias))
      if (filter.teamIds !== undefined) conditions.push(inArray(t.teams.teamId, filter.teamIds.length ? [...filter.teamIds] : ['']))
      if (filter.teamMemberBudgetId !== undefined) conditions.push(eq(t.teams.teamMemberBudgetId, filter.teamMemberBudgetId))
      if (filter.userId !== undefined) {
        const memberOf = db
          .select({ teamId: t.teamMemberships.teamId })
          .from(t.teamMemberships)
          .where(eq(t.teamMemberships.userId, filter.userId))
        conditions.push(inArray(t.teams.teamId, memberOf))
      }
      const where = conditions.length ? and(...conditions) : undefined
      const query = db.select().from(t.teams).where(where).orderBy(asc(t.teams.teamAlias), asc(t.teams.teamId))
      const rows = page ? await query.limit(page.limit).offset(page.offset) : await query
      const [{ total }] = await db.select({ total: count() }).from(t.teams).where(where)
      return { rows, total }
    },
  }
}

export function teamMembershipRepository(ctx: RepositoryContext): TeamMembershipRepository {
  const { db, t } = ctx
  const m = t.teamMemberships
  const byId = (id: MembershipId) => and(eq(m.userId, id.userId), eq(m.teamId, id.teamId))
  return {
    ...rowOperations<TeamMembershipRow, TeamMembershipInsert, MembershipId>(ctx, m, byId),
    listByTeam: (teamId) => db.select().from(m).where(eq(m.teamId, teamId)).orderBy(asc(m.createdAt), asc(m.userId)),
    listByUser: (userId) => db.select().from(m).where(eq(m.userId, userId)).orderBy(asc(m.createdAt), asc(m.teamId)),
    async listByTeams(teamIds) {
      if (teamIds.length === 0) return []
      return db.select().from(m).where(inArray(m.teamId, [...teamIds])).orderBy(asc(m.createdAt), asc(m.userId))
    },
    async listByUsers(userIds) {
      if (userIds.length === 0) return []
      return db.select().from(m).where(inArray(m.userId, [...userIds])).orderBy(asc(m.createdAt), asc(m.teamId))
    },
    deleteByTeam: (teamId) => db.delete(m).where(eq(m.teamId, teamId)).returning(),
    deleteByUser: (userId) => db.delete(m).where(eq(m.userId, userId)).returning(),
    addSpend: addSpend<MembershipId>(ctx, m, byId),
    addSpendInOrder: addSpendInOrder<MembershipId>(ctx, m, [m.userId, m.teamId], (id) => [id.userId, id.teamId]),
    async resetSpend(id) {
      await db.update(m).set({ spend: 0, version: increment(m.version), updatedAt: nowOf(ctx) }).where(byId(id))
    },
  }
}
