/**
 * `GET /audit`: who changed what, when, from what to what. Admin roles read every row; organization admins the
 * rows about objects of the organizations they administer (§4). Newest first, paged.
 */
import type { AppContext } from '../../app-context'
import { adminOrganizationIds } from '../../auth/object-access'
import { isAdminRole, type Principal } from '../../auth/principal'
import type { AuditFilter } from '../../db/ports'
import { badRequest } from '../../http/errors'
import { totalPages } from '../shared/fields'
import { DAY_MS, parseMoment } from '../spend/dates'
import { auditResponse, type AuditQuery } from './model'

type Deps = Pick<AppContext, 'repos'>

/** A bare day as the end of a range covers that whole day. */
function endOf(value: string): Date {
  const moment = parseMoment('end_date', value)
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(moment.getTime() + DAY_MS) : new Date(moment.getTime() + 1)
}

export async function listAudit(deps: Deps, principal: Principal, query: AuditQuery) {
  const filter: AuditFilter = {
    tableName: query.table_name,
    objectId: query.object_id,
    changedBy: query.changed_by,
    action: query.action,
    start: query.start_date === undefined ? undefined : parseMoment('start_date', query.start_date),
    end: query.end_date === undefined ? undefined : endOf(query.end_date),
    organizationIds: isAdminRole(principal) ? undefined : adminOrganizationIds(principal),
  }
  if (filter.start && filter.end && filter.start >= filter.end) {
    throw badRequest(`Invalid date range: start_date ${query.start_date} is after end_date ${query.end_date}`, 'start_date')
  }
  const { rows, total } = await deps.repos.audit.list(filter, { offset: (query.page - 1) * query.page_size, limit: query.page_size })
  return {
    audit_logs: rows.map(auditResponse),
    total,
    page: query.page,
    page_size: query.page_size,
    total_pages: totalPages(total, query.page_size),
  }
}
