/**
 * Who a key belongs to (team, user, organization, budget tier) and the checks that go with it (§5.3): on
 * generate the team must exist and a named user must be its member; on update a key moving to another team
 * must fit that team's models and limits and its user must be a member.
 */
import type { ChangeActor } from '../../audit/record'
import type { Settings } from '../../config/load'
import type { KeyRow, Repositories, TeamRow, UserRow } from '../../db/ports'
import { badRequest, forbidden } from '../../http/errors'
import { pythonList } from '../../lib/python-float'
import { requireBudget, requireOrganization, requireTeam } from '../shared/lookups'
import { findOrCreateUser } from '../users/find-or-create'
import type { KeyFields } from './model'

export type KeyOwners = {
  team: TeamRow | null
  /** The organization to store; undefined leaves the key's current one. */
  organizationId: string | null | undefined
  /** A user row created because the key names a user that did not exist. */
  createdUser: UserRow | null
}

type Deps = { settings: Settings }

async function organizationFor(tx: Repositories, given: string | null | undefined, team: TeamRow | null): Promise<string | null | undefined> {
  if (given === undefined || given === null) return given
  await requireOrganization(tx, given)
  if (team?.organizationId && team.organizationId !== given) {
    throw badRequest(`organization_id=${given} does not match organization_id=${team.organizationId} of team=${team.teamId}`, 'organization_id')
  }
  return given
}

async function personalOwner(tx: Repositories, deps: Deps, actor: ChangeActor, userId: string): Promise<UserRow | null> {
  const { user, created } = await findOrCreateUser(tx, deps.settings, actor, { user_id: userId })
  return created ? user : null
}

export async function ownersForGenerate(tx: Repositories, deps: Deps, actor: ChangeActor, body: KeyFields): Promise<KeyOwners> {
  const team = body.team_id ? await requireTeam(tx, body.team_id) : null
  let createdUser: UserRow | null = null
  if (body.user_id && team) {
    if (!(await tx.memberships.get({ userId: body.user_id, teamId: team.teamId }))) {
      throw badRequest(`User=${body.user_id} not assigned to team=${team.teamId}`, 'user_id')
    }
  } else if (body.user_id) {
    createdUser = await personalOwner(tx, deps, actor, body.user_id)
  }
  const organizationId = (await organizationFor(tx, body.organization_id, team)) ?? team?.organizationId ?? null
  if (body.budget_id) await requireBudget(tx, body.budget_id)
  return { team, organizationId, createdUser }
}

/** Models of the key the team may not call (an empty team list, `*` or `all-proxy-models` allow all). */
function modelsOutsideTeam(keyModels: readonly string[], team: TeamRow): string[] {
  if (team.models.length === 0 || team.models.includes('*') || team.models.includes('all-proxy-models')) return []
  return keyModels.filter((model) => model !== 'all-team-models' && !team.models.includes(model))
}

export async function ownersForUpdate(tx: Repositories, deps: Deps, actor: ChangeActor, current: KeyRow, body: KeyFields): Promise<KeyOwners> {
  const teamId = body.team_id === undefined ? current.teamId : body.team_id
  const userId = body.user_id === undefined ? current.userId : body.user_id
  const teamChanged = teamId !== current.teamId
  const userChanged = userId !== current.userId
  const team = teamId ? await requireTeam(tx, teamId) : null
  let createdUser: UserRow | null = null

  if (team && teamChanged) {
    const outside = modelsOutsideTeam(body.models ?? current.models, team)
    if (outside.length > 0) {
      throw forbidden(`Key=${current.token} has models=${pythonList(outside)} which team=${team.teamId} cannot call. Team models=${pythonList(team.models)}`)
    }
    for (const [field, teamLimit] of [
      ['tpm_limit', team.tpmLimit],
      ['rpm_limit', team.rpmLimit],
    ] as const) {
      const keyLimit = body[field] === undefined ? current[field === 'tpm_limit' ? 'tpmLimit' : 'rpmLimit'] : body[field]
      if (teamLimit !== null && keyLimit !== null && keyLimit > teamLimit) {
        throw forbidden(`Key=${current.token} has a ${field}=${keyLimit} which is greater than the team's ${field}=${teamLimit}`)
      }
    }
  }
  if (team && userId && (teamChanged || userChanged)) {
    if (!(await tx.memberships.get({ userId, teamId: team.teamId }))) {
      throw forbidden(`User=${userId} is not a member of the team=${team.teamId}. Check team members via \`/team/info\`.`)
    }
  } else if (!team && userId && userChanged) {
    createdUser = await personalOwner(tx, deps, actor, userId)
  }

  let organizationId = await organizationFor(tx, body.organization_id, team)
  if (organizationId === undefined && teamChanged && team?.organizationId) organizationId = team.organizationId
  if (body.budget_id) await requireBudget(tx, body.budget_id)
  return { team, organizationId, createdUser }
}

/**
 * `rpm_limit_type` / `tpm_limit_type: guaranteed_throughput`: the key's limit is reserved out of the team's, so
 * the limits of the team's other keys plus this one must fit (§5.3).
 */
export async function checkGuaranteedThroughput(tx: Repositories, team: TeamRow | null, key: Pick<KeyRow, 'token' | 'tpmLimit' | 'rpmLimit' | 'metadata'>): Promise<void> {
  if (!team) return
  const checks = [
    { type: key.metadata.tpm_limit_type, own: key.tpmLimit, teamLimit: team.tpmLimit, label: 'TPM', of: (row: KeyRow) => row.tpmLimit },
    { type: key.metadata.rpm_limit_type, own: key.rpmLimit, teamLimit: team.rpmLimit, label: 'RPM', of: (row: KeyRow) => row.rpmLimit },
  ]
  const needed = checks.filter((check) => check.type === 'guaranteed_throughput' && check.own !== null && check.teamLimit !== null)
  if (needed.length === 0) return
  const others = (await tx.keys.listByTeam(team.teamId)).filter((row) => row.token !== key.token)
  for (const check of needed) {
    const allocated = others.reduce((sum, row) => sum + (check.of(row) ?? 0), 0)
    if (allocated + check.own! > check.teamLimit!) {
      throw badRequest(
        `Allocated ${check.label} limit=${allocated} + Key ${check.label} limit=${check.own} is greater than team ${check.label} limit=${check.teamLimit}`,
        `${check.label.toLowerCase()}_limit`,
      )
    }
  }
}
