import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { newTagBody, tagDeleteBody, tagInfoBody, updateTagBody } from './model'
import * as tags from './service'

export function tagRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['tags'] } })
    .use(withPrincipal(context.authenticator))
    .post('/tag/new', ({ body, principal, request }) => tags.createTag(context, requestActor(principal, request), body), { body: newTagBody })
    .post('/tag/update', ({ body, principal, request }) => tags.updateTag(context, requestActor(principal, request), body), { body: updateTagBody })
    .post('/tag/info', ({ body }) => tags.tagInfo(context, body.names), { body: tagInfoBody })
    .get('/tag/list', () => tags.listTags(context))
    .post('/tag/delete', ({ body, principal, request }) => tags.deleteTag(context, requestActor(principal, request), body.name), {
      body: tagDeleteBody,
    })
}
