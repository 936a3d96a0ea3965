import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
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

export function spendRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['spend'] } })
    .use(withPrincipal(context.authenticator))
    .get('/spend/logs', ({ query, principal }) => spendLogs(context, principal, query), { query: spendLogsQuery })
    .get('/spend/logs/ui', ({ query, principal }) => spendLogsPage(context, principal, query), { query: spendLogsUiQuery })
    .get('/spend/tags', ({ query }) => tagSpend(context, query.start_date, query.end_date), { query: dateRangeQuery })
    .get('/spend/keys', () => keysBySpend(context))
    .get('/spend/users', ({ query }) => usersBySpend(context, query.user_id), { query: spendUsersQuery })
    .post('/spend/calculate', ({ body }) => calculateSpend(context, body), { body: calculateSpendBody })
    .get('/global/spend', () => globalSpend(context))
    .get('/global/spend/report', ({ query, principal }) => spendReport(context, principal, query), { query: spendReportQuery })
    .get('/global/spend/keys', ({ query }) => topKeys(context, query.limit), { query: limitQuery })
    .get('/global/spend/teams', () => teamsDailySpend(context))
    .get('/global/spend/models', ({ query }) => topModels(context, query.limit ?? 10), { query: limitQuery })
    .post('/global/spend/end_users', ({ body }) => topEndUsers(context, body), { body: endUsersSpendBody })
    .get('/global/activity', ({ query }) => globalActivity(context, query.start_date, query.end_date), { query: dateRangeQuery })
    .post('/global/spend/reset', ({ principal, request }) => resetGlobalSpend(context, requestActor(principal, request)))
    .get('/user/daily/activity', ({ query, principal }) => dailyActivity(context, principal, 'user', idList(query.user_id), query), { query: userActivityQuery })
    .get('/team/daily/activity', ({ query, principal }) => dailyActivity(context, principal, 'team', idList(query.team_ids), query), { query: teamActivityQuery })
    .get('/customer/daily/activity', ({ query, principal }) => dailyActivity(context, principal, 'end_user', idList(query.end_user_ids), query), {
      query: customerActivityQuery,
    })
    .get('/tag/daily/activity', ({ query, principal }) => dailyActivity(context, principal, 'tag', idList(query.tags), query), { query: tagActivityQuery })
}
