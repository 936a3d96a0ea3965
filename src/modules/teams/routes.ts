import { Elysia } from 'elysia'
import type { AppContext } from '../../app-context'
import { requestActor } from '../../http/actor'
import { withPrincipal } from '../../http/principal'
import { addMembers, deleteMember, updateMember } from './member-service'
import {
  deleteTeamsBody,
  memberAddBody,
  memberDeleteBody,
  memberUpdateBody,
  newTeamBody,
  permissionsListQuery,
  permissionsUpdateBody,
  teamIdBody,
  teamInfoQuery,
  teamListQuery,
  teamListV2Query,
  teamModelsBody,
  updateTeamBody,
} from './model'
import * as teams from './service'

export function teamRoutes(context: AppContext) {
  return new Elysia({ detail: { tags: ['teams'] } })
    .use(withPrincipal(context.authenticator))
    .post('/team/new', ({ body, principal, request }) => teams.createTeam(context, requestActor(principal, request), body), { body: newTeamBody })
    .post('/team/update', ({ body, principal, request }) => teams.updateTeam(context, requestActor(principal, request), body), {
      body: updateTeamBody,
    })
    .post('/team/delete', ({ body, principal, request }) => teams.deleteTeams(context, requestActor(principal, request), body.team_ids), {
      body: deleteTeamsBody,
    })
    .post('/team/block', ({ body, principal, request }) => teams.setTeamBlocked(context, requestActor(principal, request), body.team_id, true), {
      body: teamIdBody,
    })
    .post('/team/unblock', ({ body, principal, request }) => teams.setTeamBlocked(context, requestActor(principal, request), body.team_id, false), {
      body: teamIdBody,
    })
    .post('/team/member_add', ({ body, principal, request }) => addMembers(context, requestActor(principal, request), body), { body: memberAddBody })
    .post('/team/member_delete', ({ body, principal, request }) => deleteMember(context, requestActor(principal, request), body), {
      body: memberDeleteBody,
    })
    // Seed 000 spells it this way.
    .post('/team/member/delete', ({ body, principal, request }) => deleteMember(context, requestActor(principal, request), body), {
      body: memberDeleteBody,
    })
    .post('/team/member_update', ({ body, principal, request }) => updateMember(context, requestActor(principal, request), body), {
      body: memberUpdateBody,
    })
    .post('/team/model/add', ({ body, principal, request }) => teams.addTeamModels(context, requestActor(principal, request), body.team_id, body.models), {
      body: teamModelsBody,
    })
    .post(
      '/team/model/delete',
      ({ body, principal, request }) => teams.removeTeamModels(context, requestActor(principal, request), body.team_id, body.models),
      { body: teamModelsBody },
    )
    .post(
      '/team/permissions_update',
      ({ body, principal, request }) =>
        teams.updateTeamPermissions(context, requestActor(principal, request), body.team_id, body.team_member_permissions),
      { body: permissionsUpdateBody },
    )
    .get('/team/info', ({ query, principal }) => teams.teamInfo(context, principal, query.team_id), { query: teamInfoQuery })
    .get('/team/list', ({ query, principal }) => teams.listTeams(context, principal, query), { query: teamListQuery })
    .get('/v2/team/list', ({ query, principal }) => teams.listTeamsPaged(context, principal, query), { query: teamListV2Query })
    .get('/team/available', ({ principal }) => teams.availableTeams(context, principal))
    .get('/team/permissions_list', ({ query, principal }) => teams.teamPermissions(context, principal, query.team_id), {
      query: permissionsListQuery,
    })
}
