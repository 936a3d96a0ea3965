import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { bulkUpdateUsersBody, deleteUsersBody, newUserBody, updateUserBody, userInfoQuery, userListQuery } from './model'
import { availableRoles, listUsers, userInfo, userInfoV2 } from './reads'
import * as users from './service'

export function userRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['users'] } })
    .use(withPrincipal(context.authenticator))
    .post('/user/new', ({ body, principal, request }) => users.createUser(context, requestActor(principal, request), body), { body: newUserBody })
    .post('/user/update', ({ body, principal, request }) => users.updateUser(context, requestActor(principal, request), body), {
      body: updateUserBody,
    })
    .post('/user/bulk_update', ({ body, principal, request }) => users.bulkUpdateUsers(context, requestActor(principal, request), body), {
      body: bulkUpdateUsersBody,
    })
    // LiteLLM answers with the bare number of users deleted.
    .post(
      '/user/delete',
      async ({ body, principal, request }) => Response.json(await users.deleteUsers(context, requestActor(principal, request), body.user_ids)),
      { body: deleteUsersBody },
    )
    .get('/user/info', ({ query, principal }) => userInfo(context, principal, query.user_id), { query: userInfoQuery })
    .get('/v2/user/info', ({ query, principal }) => userInfoV2(context, principal, query.user_id), { query: userInfoQuery })
    .get('/user/list', ({ query, principal }) => listUsers(context, principal, query), { query: userListQuery })
    .get('/user/available_roles', () => availableRoles())
}
