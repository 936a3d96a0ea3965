import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import {
  bulkUpdateBody,
  deleteKeysBody,
  generateKeyBody,
  keyAliasesQuery,
  keyInfoQuery,
  keyListQuery,
  keyRefBody,
  keysInfoBody,
  regenerateKeyBody,
  regeneratePathBody,
  resetSpendBody,
  updateKeyBody,
} from './model'
import { regenerateKey } from './rotation'
import * as keys from './service'

export function keyRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['keys'] } })
    .use(withPrincipal(context.authenticator))
    .post('/key/generate', ({ body, principal, request }) => keys.generateKey(context, requestActor(principal, request), body), {
      body: generateKeyBody,
    })
    .post(
      '/key/service-account/generate',
      ({ body, principal, request }) => keys.generateKey(context, requestActor(principal, request), body, { serviceAccount: true }),
      { body: generateKeyBody },
    )
    .post('/key/update', ({ body, principal, request }) => keys.updateKey(context, requestActor(principal, request), body), {
      body: updateKeyBody,
    })
    .post('/key/bulk_update', ({ body, principal, request }) => keys.bulkUpdateKeys(context, requestActor(principal, request), body.keys), {
      body: bulkUpdateBody,
    })
    .post('/key/delete', ({ body, principal, request }) => keys.deleteKeys(context, requestActor(principal, request), body), {
      body: deleteKeysBody,
    })
    .post('/key/block', ({ body, principal, request }) => keys.setKeyBlocked(context, requestActor(principal, request), body.key, true), {
      body: keyRefBody,
    })
    .post('/key/unblock', ({ body, principal, request }) => keys.setKeyBlocked(context, requestActor(principal, request), body.key, false), {
      body: keyRefBody,
    })
    .post(
      '/key/regenerate',
      ({ body: { key, ...fields }, principal, request }) => regenerateKey(context, requestActor(principal, request), key, fields),
      { body: regenerateKeyBody },
    )
    .post(
      '/key/:key/regenerate',
      ({ body, params, principal, request }) => regenerateKey(context, requestActor(principal, request), params.key, body ?? {}),
      { body: regeneratePathBody },
    )
    .post(
      '/key/:key/reset_spend',
      ({ body, params, principal, request }) => keys.resetKeySpend(context, requestActor(principal, request), params.key, body.reset_to),
      { body: resetSpendBody },
    )
    .get('/key/info', ({ query, principal }) => keys.keyInfo(context, principal, query.key), { query: keyInfoQuery })
    .post('/v2/key/info', ({ body, principal }) => keys.keysInfo(context, principal, body.keys), { body: keysInfoBody })
    .get('/key/list', ({ query, principal }) => keys.listKeys(context, principal, query), { query: keyListQuery })
    .get('/key/aliases', ({ query }) => keys.listKeyAliases(context, query), { query: keyAliasesQuery })
    .post('/key/health', () => keys.keyHealth())
}
