import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { budgetInfoBody, budgetSettingsQuery, deleteBudgetBody, newBudgetBody, updateBudgetBody } from './model'
import * as budgets from './service'

export function budgetRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['budgets'] } })
    .use(withPrincipal(context.authenticator))
    .post('/budget/new', ({ body, principal, request }) => budgets.createBudget(context, requestActor(principal, request), body), {
      body: newBudgetBody,
    })
    .post('/budget/update', ({ body, principal, request }) => budgets.updateBudget(context, requestActor(principal, request), body), {
      body: updateBudgetBody,
    })
    .post('/budget/info', ({ body }) => budgets.budgetInfo(context, body.budgets), { body: budgetInfoBody })
    .get('/budget/list', () => budgets.listBudgets(context))
    .get('/budget/settings', ({ query }) => budgets.budgetSettings(context, query.budget_id), { query: budgetSettingsQuery })
    .post('/budget/delete', ({ body, principal, request }) => budgets.deleteBudget(context, requestActor(principal, request), body.id), {
      body: deleteBudgetBody,
    })
}
