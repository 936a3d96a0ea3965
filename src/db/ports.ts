/**
 * The repository interfaces: what the rest of Tollgate may ask of storage, in domain terms. One implementation
 * (`repositories/`) serves both engines through the dialect edge; `test/repository-contract.test.ts` runs
 * every method against libSQL and Postgres.
 */
import type * as s from './pg/schema'

export type TeamRow = typeof s.teams.$inferSelect
export type TeamInsert = typeof s.teams.$inferInsert
export type TeamMembershipRow = typeof s.teamMemberships.$inferSelect
export type TeamMembershipInsert = typeof s.teamMemberships.$inferInsert
export type KeyRow = typeof s.keys.$inferSelect
export type KeyInsert = typeof s.keys.$inferInsert
export type KeyRotationRow = typeof s.keyRotations.$inferSelect
export type UserRow = typeof s.users.$inferSelect
export type UserInsert = typeof s.users.$inferInsert
export type OrganizationRow = typeof s.organizations.$inferSelect
export type OrganizationInsert = typeof s.organizations.$inferInsert
export type OrganizationMembershipRow = typeof s.organizationMemberships.$inferSelect
export type OrganizationMembershipInsert = typeof s.organizationMemberships.$inferInsert
export type BudgetRow = typeof s.budgets.$inferSelect
export type BudgetInsert = typeof s.budgets.$inferInsert
export type EndUserRow = typeof s.endUsers.$inferSelect
export type EndUserInsert = typeof s.endUsers.$inferInsert
export type TagRow = typeof s.tags.$inferSelect
export type TagInsert = typeof s.tags.$inferInsert
export type SpendLogRow = typeof s.spendLogs.$inferSelect
export type DailySpendRow = typeof s.dailySpend.$inferSelect
export type SettledRequestRow = typeof s.settledRequests.$inferSelect
export type AuditLogRow = typeof s.auditLog.$inferSelect
export type DeletedKeyRow = typeof s.deletedKeys.$inferSelect
export type DeletedTeamRow = typeof s.deletedTeams.$inferSelect

/** Lifecycle columns are filled by the repository (version 1, created/updated at = the clock's now). */
type Lifecycle = 'version' | 'createdAt' | 'updatedAt'
export type NewRow<Insert> = Omit<Insert, Lifecycle> & Partial<Pick<Insert & Record<Lifecycle, unknown>, Lifecycle>>
/** A partial update; `version` and `updatedAt` are maintained by the repository. */
export type Patch<Insert> = Partial<Omit<Insert, Lifecycle>>

export type Page = { offset: number; limit: number }
export type Paged<T> = { rows: T[]; total: number }
export type SortOrder = 'asc' | 'desc'

/** The operations every object with a single-column id and a spend column supports. */
export interface EntityRepository<Row, Insert> {
  get(id: string): Promise<Row | null>
  getMany(ids: readonly string[]): Promise<Row[]>
  insert(row: NewRow<Insert>): Promise<Row>
  /** Applies `patch`, bumps `version`, sets `updated_at`; null when no row has that id. */
  update(id: string, patch: Patch<Insert>): Promise<Row | null>
  /** Deletes and returns the row as it was; null when there was none. */
  delete(id: string): Promise<Row | null>
}

/**
 * Amounts added to one row's spend one after another, in this order (a left fold in double precision), so the
 * stored value equals the sum of the amounts taken in settlement order, whatever the batch boundaries were.
 */
export type OrderedAmounts<Id = string> = { readonly id: Id; readonly amounts: readonly number[] }

export interface SpendColumn {
  /** `spend = spend + amount`, atomically in SQL (never read-modify-write). */
  addSpend(id: string, amount: number): Promise<void>
  /**
   * Folds each id's amounts into its spend in one statement per chunk. Rows are locked in id order first (so
   * concurrent settlements of several instances cannot deadlock); ids without a row are skipped.
   */
  addSpendInOrder(increments: readonly OrderedAmounts[]): Promise<void>
}

export interface BudgetWindowColumns<Row> {
  /** Rows whose window has ended (`budget_reset_at <= now`). */
  dueForReset(now: Date, limit: number): Promise<Row[]>
  /**
   * Starts a new window: spend 0 (keys: also `model_spend`) and the new end, only if the row still has the
   * window end `expected` (compare-and-set, so one actor resets a window). Returns whether this call reset it.
   */
  resetWindow(id: string, expected: Date, next: Date): Promise<boolean>
}

export type TeamFilter = {
  organizationId?: string | null
  userId?: string
  teamAlias?: string
  teamIds?: readonly string[]
  /** Teams whose default member budget row (`team_member_budget_id`) is this one. */
  teamMemberBudgetId?: string
}

export interface TeamRepository
  extends EntityRepository<TeamRow, TeamInsert>,
    SpendColumn,
    BudgetWindowColumns<TeamRow> {
  list(filter: TeamFilter, page?: Page): Promise<Paged<TeamRow>>
  /** `spend = 0` on every team (`/global/spend/reset`); returns how many rows. */
  zeroAllSpend(): Promise<number>
}

export type MembershipId = { userId: string; teamId: string }

export interface TeamMembershipRepository {
  get(id: MembershipId): Promise<TeamMembershipRow | null>
  listByTeam(teamId: string): Promise<TeamMembershipRow[]>
  listByUser(userId: string): Promise<TeamMembershipRow[]>
  /** The memberships of several teams at once (team lists render their members in one query). */
  listByTeams(teamIds: readonly string[]): Promise<TeamMembershipRow[]>
  /** The memberships of several users at once (user lists render their teams in one query). */
  listByUsers(userIds: readonly string[]): Promise<TeamMembershipRow[]>
  insert(row: NewRow<TeamMembershipInsert>): Promise<TeamMembershipRow>
  update(id: MembershipId, patch: Patch<TeamMembershipInsert>): Promise<TeamMembershipRow | null>
  delete(id: MembershipId): Promise<TeamMembershipRow | null>
  deleteByTeam(teamId: string): Promise<TeamMembershipRow[]>
  deleteByUser(userId: string): Promise<TeamMembershipRow[]>
  addSpend(id: MembershipId, amount: number): Promise<void>
  /** As `SpendColumn.addSpendInOrder`, for (user, team) ids. */
  addSpendInOrder(increments: readonly OrderedAmounts<MembershipId>[]): Promise<void>
  /** Starts a new window for the member: spend 0 (the window end lives on the budget row or the team). */
  resetSpend(id: MembershipId): Promise<void>
}

export type KeyFilter = {
  userId?: string
  teamId?: string
  organizationId?: string
  keyAlias?: string
  tokens?: readonly string[]
  /** Keys of these users, of these teams or of these organizations (a non-admin's visible set). */
  visibleTo?: { userIds: readonly string[]; teamIds: readonly string[]; organizationIds?: readonly string[] }
}
export type KeySortColumn = 'spend' | 'max_budget' | 'created_at' | 'updated_at' | 'token' | 'key_alias'

export interface KeyRepository extends EntityRepository<KeyRow, KeyInsert>, SpendColumn, BudgetWindowColumns<KeyRow> {
  getByAlias(alias: string): Promise<KeyRow | null>
  listByTeam(teamId: string): Promise<KeyRow[]>
  listByUser(userId: string): Promise<KeyRow[]>
  /** How many keys each of these users owns (users without keys are absent from the map). */
  countByUsers(userIds: readonly string[]): Promise<Map<string, number>>
  list(filter: KeyFilter, page: Page, sort?: { by: KeySortColumn; order: SortOrder }): Promise<Paged<KeyRow>>
  /** Moves spend under `model_spend[model]` too (per-model key budgets). */
  addModelSpend(token: string, model: string, amount: number): Promise<void>
  /** Folds amounts into `model_spend[model]` in the given order; keys are locked in token order first. */
  addModelSpendInOrder(increments: readonly { token: string; model: string; amounts: readonly number[] }[]): Promise<void>
  /** `spend = 0` and an empty `model_spend` on every key (`/global/spend/reset`); returns how many rows. */
  zeroAllSpend(): Promise<number>
  /** Replaces the primary key (rotation keeps the row: spend, limits and history stay). */
  changeToken(oldToken: string, newToken: string, keyName: string): Promise<KeyRow | null>
  /** Key aliases in alphabetical order, optionally those containing `search` (case-insensitive). */
  listAliases(search: string | undefined, page: Page): Promise<Paged<string>>
}

export interface KeyRotationRepository {
  insert(row: KeyRotationRow): Promise<void>
  get(oldToken: string): Promise<KeyRotationRow | null>
  /** The rotated-out hashes that still resolve to the active key `token`. */
  listByToken(token: string): Promise<KeyRotationRow[]>
  deleteByToken(token: string): Promise<void>
  deleteExpired(now: Date): Promise<number>
}

export type ArchiveMeta = { deletedAt: Date; deletedBy: string | null }

export interface ArchiveRepository {
  archiveKeys(rows: readonly KeyRow[], meta: ArchiveMeta): Promise<void>
  archiveTeam(row: TeamRow, meta: ArchiveMeta): Promise<void>
  deletedKeys(filter: { teamId?: string; userId?: string; token?: string }): Promise<DeletedKeyRow[]>
  deletedTeams(teamId: string): Promise<DeletedTeamRow[]>
}

export type UserFilter = {
  userIds?: readonly string[]
  role?: string
  emailContains?: string
  teamId?: string
  organizationIds?: readonly string[]
}
export type UserSortColumn = 'user_id' | 'user_email' | 'created_at' | 'spend' | 'user_alias' | 'user_role'

export interface UserRepository extends EntityRepository<UserRow, UserInsert>, SpendColumn, BudgetWindowColumns<UserRow> {
  /** Case-insensitive; more than one row only for data written before the unique index. */
  findByEmail(email: string): Promise<UserRow[]>
  list(filter: UserFilter, page: Page, sort?: { by: UserSortColumn; order: SortOrder }): Promise<Paged<UserRow>>
}

export interface OrganizationRepository extends EntityRepository<OrganizationRow, OrganizationInsert>, SpendColumn {
  list(filter: { organizationIds?: readonly string[] }): Promise<OrganizationRow[]>
  countByBudget(budgetId: string): Promise<number>
}

export type OrganizationMembershipId = { userId: string; organizationId: string }

export interface OrganizationMembershipRepository {
  get(id: OrganizationMembershipId): Promise<OrganizationMembershipRow | null>
  listByOrganization(organizationId: string): Promise<OrganizationMembershipRow[]>
  listByUser(userId: string): Promise<OrganizationMembershipRow[]>
  insert(row: NewRow<OrganizationMembershipInsert>): Promise<OrganizationMembershipRow>
  update(id: OrganizationMembershipId, patch: Patch<OrganizationMembershipInsert>): Promise<OrganizationMembershipRow | null>
  delete(id: OrganizationMembershipId): Promise<OrganizationMembershipRow | null>
  deleteByUser(userId: string): Promise<OrganizationMembershipRow[]>
  addSpend(id: OrganizationMembershipId, amount: number): Promise<void>
}

export interface BudgetRepository extends EntityRepository<BudgetRow, BudgetInsert>, BudgetWindowColumns<BudgetRow> {
  list(): Promise<BudgetRow[]>
  /** How many keys, memberships, organizations, end users, tags and teams point at this budget row. */
  countReferences(budgetId: string): Promise<number>
  /**
   * A new window of the row: spend 0 on every object whose window it is (organizations, end users, tags,
   * organization and team memberships, and keys without a `budget_duration` of their own, whose `model_spend`
   * is emptied too). Returns how many.
   */
  resetLinkedSpend(budgetId: string): Promise<number>
}

export interface EndUserRepository
  extends EntityRepository<EndUserRow, EndUserInsert>,
    SpendColumn {
  list(page?: Page): Promise<EndUserRow[]>
  /** Increments spend, creating the row (no budget) when the end user was only seen in traffic. */
  upsertSpend(id: string, amount: number, now: Date): Promise<void>
  /** Creates rows (no budget, spend 0) for end users seen in traffic that have none; existing rows are kept. */
  ensureExist(ids: readonly string[], now: Date): Promise<void>
  /**
   * A new window of the default end-user budget (`litellm_settings.max_end_user_budget_id`): spend 0 on every
   * end user without a budget row of their own. Returns how many.
   */
  resetSpendWithoutBudget(): Promise<number>
}

export interface TagRepository extends EntityRepository<TagRow, TagInsert>, SpendColumn {
  list(): Promise<TagRow[]>
}

export type SpendLogFilter = {
  apiKey?: string
  userId?: string
  teamId?: string
  /** The gateway's request id or the upstream response id. */
  requestId?: string
  start?: Date
  end?: Date
  model?: string
  endUser?: string
  status?: string
  minSpend?: number
  maxSpend?: number
  /** Rows of any of these keys, users, teams or organizations (what a non-admin may see); absent = no limit. */
  visibleTo?: SpendVisibility
}

export type SpendVisibility = {
  apiKeys?: readonly string[]
  userIds?: readonly string[]
  teamIds?: readonly string[]
  organizationIds?: readonly string[]
}

/** Spend of one UTC day for one (api key, user, model): the rows of `/spend/logs?summarize=true`. */
export type SpendLogDaySummary = { day: string; apiKey: string; userId: string | null; model: string; spend: number }

export interface SpendLogRepository {
  /** Inserts what is new (idempotent by request_id) and returns the request ids that were inserted. */
  insertMany(rows: readonly SpendLogRow[]): Promise<string[]>
  get(requestId: string): Promise<SpendLogRow | null>
  /** Newest first. */
  list(filter: SpendLogFilter, page: Page): Promise<Paged<SpendLogRow>>
  /** Sums of spend per UTC day of `start_time`, api key, user and model; ordered by day. */
  summarizeByDay(filter: SpendLogFilter): Promise<SpendLogDaySummary[]>
  /** Deletes rows that started before `cutoff` (at most `limit` when given); returns how many. */
  deleteOlderThan(cutoff: Date, limit?: number): Promise<number>
}

export interface SettledRequestRepository {
  /** Records request ids as settled; returns the ones not recorded before (the exactly-once gate of spend). */
  markSettled(requestIds: readonly string[], at: Date): Promise<string[]>
  /** Forgets ids settled before `cutoff`, at most `limit`; returns how many. */
  deleteOlderThan(cutoff: Date, limit: number): Promise<number>
}

export type DailySpendIncrement = Omit<DailySpendRow, never>
export type DailySpendDimension = 'date' | 'entityId' | 'apiKey' | 'modelGroup' | 'model' | 'provider'
/** Which rollup rows a report reads: one entity type, optionally some entities, a day range (inclusive), a key, a model. */
export type DailySpendQuery = {
  entityType: string
  entityIds?: readonly string[]
  /** Leaves out rows of these entities (e.g. `''`, the rows without one). */
  excludeEntityIds?: readonly string[]
  from?: string
  to?: string
  apiKey?: string
  /** Rows of one of these keys only (a non-admin's own keys); an empty list matches nothing. */
  apiKeys?: readonly string[]
  model?: string
}
export type DailySpendLineItem = Pick<DailySpendRow, 'date' | 'entityId' | 'model' | 'apiKey' | 'spend'> & { totalTokens: number }
export type DailySpendSums = Pick<
  DailySpendRow,
  'promptTokens' | 'completionTokens' | 'spend' | 'apiRequests' | 'successfulRequests' | 'failedRequests'
>

export interface DailySpendRepository {
  /** Adds each row's sums to the row with the same identity, creating it when missing. */
  increment(rows: readonly DailySpendIncrement[]): Promise<void>
  list(filter: { entityType: string; entityIds?: readonly string[]; from: string; to: string }): Promise<DailySpendRow[]>
  /** Sums grouped by the given dimensions (none: one total row), ordered by them. */
  summarize<D extends DailySpendDimension>(query: DailySpendQuery, groupBy: readonly D[]): Promise<Array<Pick<DailySpendRow, D> & DailySpendSums>>
  /** Raw rollup rows, newest day first, and how many match. */
  page(query: DailySpendQuery, page: Page): Promise<Paged<DailySpendRow>>
  /**
   * The matching rows' day, entity, model, key and sums, unordered and ungrouped: for reports whose lines are
   * (nearly) rollup rows, where grouping and sorting in SQL would cost more than it saves.
   */
  lineItems(query: DailySpendQuery): Promise<DailySpendLineItem[]>
}

export type AuditEntry = Omit<AuditLogRow, 'id' | 'changedAt' | 'organizationId'> & { changedAt?: Date; organizationId?: string | null }
export type AuditFilter = {
  tableName?: string
  objectId?: string
  changedBy?: string
  action?: string
  start?: Date
  end?: Date
  /** Rows about objects of one of these organizations only (an org admin's view); an empty list matches nothing. */
  organizationIds?: readonly string[]
}

export interface AuditLogRepository {
  record(entry: AuditEntry): Promise<AuditLogRow>
  /** Newest first. */
  list(filter: AuditFilter, page: Page): Promise<Paged<AuditLogRow>>
}

export interface SettingsRepository {
  get(name: string): Promise<string | null>
  put(name: string, value: string): Promise<void>
  /** Writes only when no value exists; returns whether this call wrote it. */
  putIfAbsent(name: string, value: string): Promise<boolean>
}

export interface JobLeaseRepository {
  /** Takes or renews the lease when it is free, expired or already ours; returns whether we hold it. */
  acquire(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>
  release(name: string, holder: string): Promise<void>
}

export interface Repositories {
  readonly teams: TeamRepository
  readonly memberships: TeamMembershipRepository
  readonly keys: KeyRepository
  readonly keyRotations: KeyRotationRepository
  readonly archive: ArchiveRepository
  readonly users: UserRepository
  readonly organizations: OrganizationRepository
  readonly organizationMemberships: OrganizationMembershipRepository
  readonly budgets: BudgetRepository
  readonly endUsers: EndUserRepository
  readonly tags: TagRepository
  readonly spendLogs: SpendLogRepository
  readonly settledRequests: SettledRequestRepository
  readonly dailySpend: DailySpendRepository
  readonly audit: AuditLogRepository
  readonly settings: SettingsRepository
  readonly jobLeases: JobLeaseRepository
  /** Runs `work` in one transaction; the repositories it receives write inside that transaction. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>
  /** A round trip to the database; throws when it is unreachable. */
  ping(): Promise<void>
}
