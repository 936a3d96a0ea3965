/**
 * The management change log (`GET /audit`, §11 `audit_log`): query schema and the row shape, with LiteLLM's
 * `LiteLLM_AuditLog` field names (`updated_at` is when the change was made) plus the route and organization.
 */
import { z } from 'zod'
import type { AuditLogRow } from '../../db/ports'
import { formatTimestamp } from '../../lib/time'
import { pageNumber } from '../shared/fields'

export const AUDIT_ACTIONS = ['created', 'updated', 'deleted', 'blocked', 'unblocked', 'rotated'] as const

export const auditQuery = z.object({
  page: pageNumber.default(1),
  page_size: pageNumber.max(100).default(50),
  /** The object type: `teams`, `keys`, `users`, `team_memberships`, `organizations`, `budgets`, … */
  table_name: z.string().optional(),
  object_id: z.string().optional(),
  changed_by: z.string().optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  /** `YYYY-MM-DD` (UTC day, inclusive) or a moment with a time. */
  start_date: z.string().optional(),
  end_date: z.string().optional(),
})

export type AuditQuery = z.infer<typeof auditQuery>

export function auditResponse(row: AuditLogRow) {
  return {
    id: row.id,
    updated_at: formatTimestamp(row.changedAt),
    changed_by: row.changedBy,
    changed_by_api_key: row.changedByApiKey,
    action: row.action,
    route: row.route,
    table_name: row.tableName,
    object_id: row.objectId,
    organization_id: row.organizationId,
    before_value: row.beforeValue,
    updated_values: row.updatedValues,
  }
}
