import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { defineRouteAccess } from '../../auth/route-access'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { dailyActivity, idList } from './activity-service'
import { keysBySpend, spendLogs, spendLogsPage, usersBySpend } from './logs-service'
import {
  calculateSpendBody,
  customerActivityQuery,
  dateRangeQuery,
  endUsersSpendBody,
  limitQuery,
  spendLogsQuery,
  spendLogsUiQuery,
  spendReportQuery,
  spendUsersQuery,
  tagActivityQuery,
  teamActivityQuery,
  userActivityQuery,
} from './model'
import { globalActivity, globalSpend, spendReport, tagSpend, teamsDailySpend, topEndUsers, topKeys, topModels } from './reports-service'
import { calculateSpend, resetGlobalSpend } from './service'

// Admin roles for now (§4); scoped access for org/team admins and users comes with their ownership checks.
defineRouteAccess({
  'GET /spend/logs': 'admin_read',
  'GET /spend/logs/ui': 'admin_read',
  'GET /spend/tags': 'admin_read',
  'GET /spend/keys': 'admin_read',
  'GET /spend/users': 'admin_read',
  // Reads only the configured prices: any authenticated caller may price a call.
  'POST /spend/calculate': 'any',
  'GET /global/spend': 'admin_read',
  'GET /global/spend/report': 'admin_read',
  'GET /global/spend/keys': 'admin_read',
  'GET /global/spend/teams': 'admin_read',
  'GET /global/spend/models': 'admin_read',
  'POST /global/spend/end_users': 'admin_read',
  'GET /global/activity': 'admin_read',
  'POST /global/spend/reset': 'master_key',
  'GET /user/daily/activity': 'admin_read',
  'GET /team/daily/activity': 'admin_read',
  'GET /customer/daily/activity': 'admin_read',
  'GET /tag/daily/activity': 'admin_read',
})

export function spendRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['spend'] } })
    .use(withPrincipal(context.authenticator))
    .get('/spend/logs', ({ query }) => spendLogs(context, query), { query: spendLogsQuery })
    .get('/spend/logs/ui', ({ query }) => spendLogsPage(context, query), { query: spendLogsUiQuery })
    .get('/spend/tags', ({ query }) => tagSpend(context, query.start_date, query.end_date), { query: dateRangeQuery })
    .get('/spend/keys', () => keysBySpend(context))
    .get('/spend/users', ({ query }) => usersBySpend(context, query.user_id), { query: spendUsersQuery })
    .post('/spend/calculate', ({ body }) => calculateSpend(context, body), { body: calculateSpendBody })
    .get('/global/spend', () => globalSpend(context))
    .get('/global/spend/report', ({ query }) => spendReport(context, query), { query: spendReportQuery })
    .get('/global/spend/keys', ({ query }) => topKeys(context, query.limit), { query: limitQuery })
    .get('/global/spend/teams', () => teamsDailySpend(context))
    .get('/global/spend/models', ({ query }) => topModels(context, query.limit ?? 10), { query: limitQuery })
    .post('/global/spend/end_users', ({ body }) => topEndUsers(context, body), { body: endUsersSpendBody })
    .get('/global/activity', ({ query }) => globalActivity(context, query.start_date, query.end_date), { query: dateRangeQuery })
    .post('/global/spend/reset', ({ principal, request }) => resetGlobalSpend(context, requestActor(principal, request)))
    .get('/user/daily/activity', ({ query }) => dailyActivity(context, 'user', idList(query.user_id), query), { query: userActivityQuery })
    .get('/team/daily/activity', ({ query }) => dailyActivity(context, 'team', idList(query.team_ids), query), { query: teamActivityQuery })
    .get('/customer/daily/activity', ({ query }) => dailyActivity(context, 'end_user', idList(query.end_user_ids), query), {
      query: customerActivityQuery,
    })
    .get('/tag/daily/activity', ({ query }) => dailyActivity(context, 'tag', idList(query.tags), query), { query: tagActivityQuery })
}
