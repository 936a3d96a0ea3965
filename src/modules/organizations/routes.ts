import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { addOrganizationMembers, deleteOrganizationMember, updateOrganizationMember } from './member-service'
import {
  deleteOrganizationsBody,
  newOrganizationBody,
  orgMemberAddBody,
  orgMemberDeleteBody,
  orgMemberUpdateBody,
  organizationInfoQuery,
  updateOrganizationBody,
} from './model'
import * as organizations from './service'

export function organizationRoutes(context: AppContext) {
  const update = organizations.updateOrganization
  return new Elysia({ detail: { tags: ['organizations'] } })
    .use(withPrincipal(context.authenticator))
    .post('/organization/new', ({ body, principal, request }) => organizations.createOrganization(context, requestActor(principal, request), body), {
      body: newOrganizationBody,
    })
    .patch('/organization/update', ({ body, principal, request }) => update(context, requestActor(principal, request), body), {
      body: updateOrganizationBody,
    })
    .post('/organization/update', ({ body, principal, request }) => update(context, requestActor(principal, request), body), {
      body: updateOrganizationBody,
    })
    .delete(
      '/organization/delete',
      ({ body, principal, request }) => organizations.deleteOrganizations(context, requestActor(principal, request), body.organization_ids),
      { body: deleteOrganizationsBody },
    )
    .get('/organization/info', ({ query, principal }) => organizations.organizationInfo(context, principal, query.organization_id), {
      query: organizationInfoQuery,
    })
    .get('/organization/list', ({ principal }) => organizations.listOrganizations(context, principal))
    .post('/organization/member_add', ({ body, principal, request }) => addOrganizationMembers(context, requestActor(principal, request), body), {
      body: orgMemberAddBody,
    })
    .patch(
      '/organization/member_update',
      ({ body, principal, request }) => updateOrganizationMember(context, requestActor(principal, request), body),
      { body: orgMemberUpdateBody },
    )
    .delete(
      '/organization/member_delete',
      ({ body, principal, request }) => deleteOrganizationMember(context, requestActor(principal, request), body),
      { body: orgMemberDeleteBody },
    )
}
