/**
 * Audit rows for management changes, written by the service inside the change's own transaction. Objects are
 * stored as JSON with dates as ISO strings; a key appears only as its hash (the row's primary key).
 */
import type { Principal } from '../auth/principal'
import type { AuditEntry, Repositories } from '../db/ports'

export type ChangeAction = 'created' | 'updated' | 'deleted' | 'blocked' | 'unblocked' | 'rotated'

export type ChangeActor = { principal: Principal; route: string; changedBy?: string | null }

/** Who is recorded as making a change: `litellm-changed-by` only when a proxy admin sent it. */
export function actorOf(principal: Principal, route: string, changedByHeader: string | null): ChangeActor {
  const trusted = principal.role === 'proxy_admin' && changedByHeader ? changedByHeader : null
  return { principal, route, changedBy: trusted }
}

export function auditValue(value: object | null | undefined): Record<string, unknown> | null {
  if (!value) return null
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>
  delete copy.passwordHash
  return copy
}

export type Change = {
  action: ChangeAction
  tableName: string
  objectId: string
  before?: object | null
  after?: object | null
  /** The organization the object belongs to; by default its own `organizationId`, else its team's. */
  organizationId?: string | null
}

/** Which organization's audit view a change belongs in (§4: org admins read their organizations' rows). */
async function organizationOf(tx: Pick<Repositories, 'teams'>, change: Change): Promise<string | null> {
  if (change.organizationId !== undefined) return change.organizationId
  const values = [change.after, change.before].filter((value): value is Record<string, unknown> => !!value)
  for (const value of values) if (typeof value.organizationId === 'string') return value.organizationId
  const teamId = values.map((value) => value.teamId).find((id): id is string => typeof id === 'string')
  return teamId ? ((await tx.teams.get(teamId))?.organizationId ?? null) : null
}

export async function recordChange(tx: Pick<Repositories, 'audit' | 'teams'>, actor: ChangeActor, change: Change): Promise<void> {
  const entry: AuditEntry = {
    changedBy: actor.changedBy ?? actor.principal.userId ?? actor.principal.keyHash ?? 'unknown',
    changedByApiKey: actor.principal.keyHash,
    action: change.action,
    route: actor.route,
    tableName: change.tableName,
    objectId: change.objectId,
    beforeValue: auditValue(change.before),
    updatedValues: auditValue(change.after),
    organizationId: await organizationOf(tx, change),
  }
  await tx.audit.record(entry)
}
