import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type {
  OrganizationInsert,
  OrganizationMembershipId,
  OrganizationMembershipInsert,
  OrganizationMembershipRepository,
  OrganizationMembershipRow,
  OrganizationRepository,
  OrganizationRow,
  UserInsert,
  UserRepository,
  UserRow,
  UserSortColumn,
} from '../ports'
import type { RepositoryContext } from './context'
import { addSpend, addSpendInOrder, budgetWindows, entityRepository, rowOperations } from './entity'

export function userRepository(ctx: RepositoryContext): UserRepository {
  const { db, t } = ctx
  const u = t.users
  const sortColumns: Record<UserSortColumn, AnyPgColumn> = {
    user_id: u.userId,
    user_email: u.userEmail,
    created_at: u.createdAt,
    spend: u.spend,
    user_alias: u.userAlias,
    user_role: u.userRole,
  }
  return {
    ...entityRepository<UserRow, UserInsert>(ctx, u, u.userId),
    addSpend: addSpend(ctx, u, u.userId),
    addSpendInOrder: addSpendInOrder<string>(ctx, u, [u.userId], (id) => [id]),
    ...budgetWindows<UserRow>(ctx, u, u.userId),
    findByEmail: (email) => db.select().from(u).where(eq(sql`lower(${u.userEmail})`, email.toLowerCase())),
    async list(filter, page, sort = { by: 'created_at', order: 'desc' }) {
      const conditions = []
      if (filter.userIds !== undefined) conditions.push(inArray(u.userId, filter.userIds.length ? [...filter.userIds] : ['']))
      if (filter.role !== undefined) conditions.push(eq(u.userRole, filter.role))
      if (filter.emailContains !== undefined) conditions.push(ctx.dialect.containsIgnoringCase(u.userEmail, filter.emailContains))
      if (filter.teamId !== undefined) {
        const members = db.select({ id: t.teamMemberships.userId }).from(t.teamMemberships).where(eq(t.teamMemberships.teamId, filter.teamId))
        conditions.push(inArray(u.userId, members))
      }
      if (filter.organizationIds !== undefined) {
        const ids = filter.organizationIds.length ? [...filter.organizationIds] : ['']
        const members = db
          .select({ id: t.organizationMemberships.userId })
          .from(t.organizationMemberships)
          .where(inArray(t.organizationMemberships.organizationId, ids))
        conditions.push(inArray(u.userId, members))
      }
      const where = conditions.length ? and(...conditions) : undefined
      const direction = sort.order === 'asc' ? asc : desc
      const rows = await db
        .select()
        .from(u)
        .where(where)
        .orderBy(direction(sortColumns[sort.by]), asc(u.userId))
        .limit(page.limit)
        .offset(page.offset)
      const [{ total }] = await db.select({ total: count() }).from(u).where(where)
      return { rows, total }
    },
  }
}

export function organizationRepository(ctx: RepositoryContext): OrganizationRepository {
  const { db, t } = ctx
  const o = t.organizations
  return {
    ...entityRepository<OrganizationRow, OrganizationInsert>(ctx, o, o.organizationId),
    addSpend: addSpend(ctx, o, o.organizationId),
    addSpendInOrder: addSpendInOrder<string>(ctx, o, [o.organizationId], (id) => [id]),
    list: (filter) =>
      db
        .select()
        .from(o)
        .where(
          filter.organizationIds !== undefined
            ? inArray(o.organizationId, filter.organizationIds.length ? [...filter.organizationIds] : [''])
            : undefined,
        )
        .orderBy(asc(o.organizationAlias), asc(o.organizationId)),
    async countByBudget(budgetId) {
      const [{ total }] = await db.select({ total: count() }).from(o).where(eq(o.budgetId, budgetId))
      return total
    },
  }
}

export function organizationMembershipRepository(ctx: RepositoryContext): OrganizationMembershipRepository {
  const { db, t } = ctx
  const m = t.organizationMemberships
  const byId = (id: OrganizationMembershipId) => and(eq(m.userId, id.userId), eq(m.organizationId, id.organizationId))
  return {
    ...rowOperations<OrganizationMembershipRow, OrganizationMembershipInsert, OrganizationMembershipId>(ctx, m, byId),
    listByOrganization: (organizationId) =>
      db.select().from(m).where(eq(m.organizationId, organizationId)).orderBy(asc(m.createdAt), asc(m.userId)),
    listByUser: (userId) => db.select().from(m).where(eq(m.userId, userId)).orderBy(asc(m.createdAt), asc(m.organizationId)),
    deleteByUser: (userId) => db.delete(m).where(eq(m.userId, userId)).returning(),
    addSpend: addSpend<OrganizationMembershipId>(ctx, m, byId),
  }
}
