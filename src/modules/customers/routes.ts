import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { customerIdsBody, customerInfoQuery, newCustomerBody, updateCustomerBody } from './model'
import * as customers from './service'

/** LiteLLM serves every customer route under `/end_user/…` as well. */
const PREFIXES = ['/customer', '/end_user'] as const

function customerRoutesAt(context: AppContext, prefix: (typeof PREFIXES)[number]) {
  return new Elysia({ detail: { tags: ['customers'] } })
    .use(withPrincipal(context.authenticator))
    .post(`${prefix}/new`, ({ body, principal, request }) => customers.createCustomer(context, requestActor(principal, request), body), {
      body: newCustomerBody,
    })
    .post(`${prefix}/update`, ({ body, principal, request }) => customers.updateCustomer(context, requestActor(principal, request), body), {
      body: updateCustomerBody,
    })
    .get(`${prefix}/info`, ({ query }) => customers.customerInfo(context, query.end_user_id), { query: customerInfoQuery })
    .get(`${prefix}/list`, () => customers.listCustomers(context))
    .post(
      `${prefix}/delete`,
      ({ body, principal, request }) => customers.deleteCustomers(context, requestActor(principal, request), body.user_ids),
      { body: customerIdsBody },
    )
    .post(
      `${prefix}/block`,
      ({ body, principal, request }) => customers.setCustomersBlocked(context, requestActor(principal, request), body.user_ids, true),
      { body: customerIdsBody },
    )
    .post(
      `${prefix}/unblock`,
      ({ body, principal, request }) => customers.setCustomersBlocked(context, requestActor(principal, request), body.user_ids, false),
      { body: customerIdsBody },
    )
}

export function customerRoutes(context: AppContext) {
  return new Elysia().use(customerRoutesAt(context, '/customer')).use(customerRoutesAt(context, '/end_user'))
}
