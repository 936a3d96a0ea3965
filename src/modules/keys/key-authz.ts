/**
 * Who may create or change which key, and with which fields (§4): team keys need the team's admin, its
 * organization's admin, or a member whose team lets members call the route; personal keys belong to their
 * caller; `litellm_settings.key_generation_settings` may restrict both. Non-admins never set the admin-only
 * fields and never exceed their owner's ceiling (the team's limits for team keys, the user's for personal
 * keys) on generate and update alike. Proxy admins skip all of this.
 */
import { checkCeiling, checkModelsWithin, fieldRefused, refuseChangedFields, refuseRemovedCap } from '../../auth/field-rules'
import { canReadTeam, isOrganizationAdmin, mayResetKeySpend, teamMemberPermissionError, teamRoleOf, type KeyWriteRight } from '../../auth/object-access'
import { isProxyAdmin, type Principal } from '../../auth/principal'
import type { Settings } from '../../config/load'
import type { KeyRow, Repositories, TeamRow, UserRow } from '../../db/ports'
import { badRequest, forbidden } from '../../http/errors'
import { pythonList } from '../../lib/python-float'
import { teamNotFound } from '../shared/lookups'
import { keyLabel } from './key-rows'
import type { KeyFields } from './model'

type KeyGenerationSettings = {
  team_key_generation?: { allowed_team_member_roles?: string[]; required_params?: string[] }
  personal_key_generation?: { allowed_user_roles?: string[]; required_params?: string[] }
}

/** Fields of a key only proxy admins set (org admins may name their own organization). */
const ADMIN_ONLY_KEY_FIELDS = ['spend', 'blocked', 'budget_id', 'temp_budget_increase', 'temp_budget_expiry', 'permissions'] as const

/** The limit fields a key's owner caps, with the owner's field that caps each. */
const CEILINGS = [
  ['max_budget', 'maxBudget', 'max_budget'],
  ['soft_budget', 'softBudget', 'soft_budget'],
  ['tpm_limit', 'tpmLimit', 'tpm_limit'],
  ['rpm_limit', 'rpmLimit', 'rpm_limit'],
  ['max_parallel_requests', 'maxParallelRequests', 'max_parallel_requests'],
] as const

type Owner = { label: string; limits: Pick<TeamRow, 'maxBudget' | 'softBudget' | 'tpmLimit' | 'rpmLimit' | 'maxParallelRequests' | 'models'> }

function ownerOf(team: TeamRow | null, user: UserRow | null): Owner | null {
  if (team) return { label: `team=${team.teamId}`, limits: team }
  if (user) return { label: `user=${user.userId}`, limits: user }
  return null
}

/**
 * The limits a request sets, against the owner's. `all`: every limit of the key (a key moving to another
 * team must fit it whole), else only the fields the request names.
 */
function checkKeyCeilings(fields: KeyFields, owner: Owner | null, all?: KeyRow): void {
  if (!owner) return
  const { limits, label } = owner
  for (const [field, column, ownerField] of CEILINGS) {
    const value = fields[field] !== undefined ? fields[field] : all?.[column]
    // A soft budget above the owner's hard cap is as far as it may go when the owner has no soft budget.
    const ceiling = field === 'soft_budget' ? (limits.softBudget ?? limits.maxBudget) : limits[column]
    checkCeiling(field, value, ceiling, label, field === 'soft_budget' && limits.softBudget === null ? 'max_budget' : ownerField)
  }
  const perModel = [
    ['model_rpm_limit', fields.model_rpm_limit ?? (all?.metadata.model_rpm_limit as Record<string, number> | undefined), limits.rpmLimit, 'rpm_limit'],
    ['model_tpm_limit', fields.model_tpm_limit ?? (all?.metadata.model_tpm_limit as Record<string, number> | undefined), limits.tpmLimit, 'tpm_limit'],
  ] as const
  for (const [field, map, ceiling, ceilingField] of perModel) {
    for (const [model, value] of Object.entries(map ?? {})) checkCeiling(`${field}.${model}`, value, ceiling, label, ceilingField)
  }
  for (const [model, entry] of Object.entries(fields.model_max_budget ?? {})) {
    checkCeiling(`model_max_budget.${model}`, entry.budget_limit ?? entry.max_budget, limits.maxBudget, label, 'max_budget')
  }
  checkModelsWithin('models', fields.models ?? all?.models, limits.models, label, ['all-team-models'])
  // A request for an alias is allowed when the alias or its target is (§6.2): targets stay within the owner's too.
  checkModelsWithin('aliases', Object.values(fields.aliases ?? all?.aliases ?? {}), limits.models, label)
}

function refuseOrganization(principal: Principal, fields: KeyFields, current: string | null): void {
  if (fields.organization_id === undefined || fields.organization_id === current) return
  if (fields.organization_id !== null && isOrganizationAdmin(principal, fields.organization_id)) return
  throw fieldRefused('organization_id', 'only proxy admins (or the admin of that organization) may set it')
}

function keyGenerationSettings(settings: Settings): KeyGenerationSettings {
  return (settings.config.litellm_settings.key_generation_settings ?? {}) as KeyGenerationSettings
}

function checkRequiredParams(required: readonly string[] | undefined, body: KeyFields): void {
  for (const param of required ?? []) {
    const value = (body as Record<string, unknown>)[param]
    if (value === undefined || value === null) throw badRequest(`Required param ${param} not in data`, param)
  }
}

/**
 * May the caller create (or move) a key into `team` through `route`? Its admin, its organization's admin, or a
 * member when the team lets members call the route. A team the caller cannot see answers as a missing one.
 */
export function checkTeamKeyRight(principal: Principal, team: TeamRow, route: string): 'manager' | 'member' {
  if (principal.role === 'internal_user' && (teamRoleOf(principal, team.teamId) === 'admin' || isOrganizationAdmin(principal, team.organizationId))) {
    return 'manager'
  }
  if (!canReadTeam(principal, team) && teamRoleOf(principal, team.teamId) === null) throw teamNotFound(team.teamId)
  if (teamRoleOf(principal, team.teamId) === 'user') {
    if (team.teamMemberPermissions.includes(route)) return 'member'
    throw teamMemberPermissionError(route, team)
  }
  throw forbidden(`User=${principal.userId} is not allowed to create keys for team=${team.teamId}`)
}

/**
 * The user a non-admin's new key belongs to: the caller (also when the body says nothing), or none for a team
 * key whose team the caller manages without being a member.
 */
export function defaultKeyOwner(principal: Principal, input: KeyFields, options: { serviceAccount?: boolean }): KeyFields {
  if (isProxyAdmin(principal) || options.serviceAccount || input.user_id !== undefined) return input
  const member = input.team_id ? teamRoleOf(principal, input.team_id) !== null : true
  return { ...input, user_id: member ? principal.userId : null }
}

/** `/key/generate` for a caller other than a proxy admin, before anything is written. */
export async function authorizeGenerate(tx: Repositories, settings: Settings, principal: Principal, input: KeyFields, route: string): Promise<void> {
  if (isProxyAdmin(principal)) return
  refuseChangedFields(input as Record<string, unknown>, ADMIN_ONLY_KEY_FIELDS, { spend: 0, blocked: false })
  refuseOrganization(principal, input, null)
  if (input.user_id !== undefined && input.user_id !== null && input.user_id !== principal.userId) {
    throw forbidden(`User can only create keys for themselves. Got user_id=${input.user_id}, Your ID=${principal.userId}`)
  }
  const generation = keyGenerationSettings(settings)
  if (input.team_id) {
    const team = await tx.teams.get(input.team_id)
    if (!team) throw teamNotFound(input.team_id)
    // A plain member's team keys are their own: no key without an owner escapes the member's budget.
    if (checkTeamKeyRight(principal, team, route) === 'member' && input.user_id !== principal.userId) {
      throw fieldRefused(`user_id=${input.user_id ?? 'None'}`, "a team member's keys belong to them")
    }
    const rules = generation.team_key_generation
    const role = teamRoleOf(principal, team.teamId)
    const allowedRoles = rules?.allowed_team_member_roles
    if (allowedRoles && role !== null && !allowedRoles.includes(role)) {
      throw badRequest(`Team member role ${role} not in allowed_team_member_roles=${pythonList(allowedRoles)}`, 'team_id')
    }
    checkRequiredParams(rules?.required_params, input)
    checkKeyCeilings(input, ownerOf(team, null))
    return
  }
  if (input.user_id === null) throw fieldRefused('user_id=None', 'a personal key belongs to its caller')
  const rules = generation.personal_key_generation
  const allowedRoles = rules?.allowed_user_roles
  if (allowedRoles && !allowedRoles.includes(principal.role)) {
    throw badRequest(`Personal key creation has been restricted by admin. Allowed roles=${pythonList(allowedRoles)}. Your role=${principal.role}`, 'user_id')
  }
  checkRequiredParams(rules?.required_params, input)
  checkKeyCeilings(input, ownerOf(null, principal.userId ? await tx.users.get(principal.userId) : null))
}

/**
 * `/key/update` (and the fields of `/key/regenerate`) for a caller other than a proxy admin who has `right` on
 * `current`: no admin-only field, no cap removed, no window restart unless they may reset its spend, the key
 * stays the caller's (or its user's), a new team must be one the caller may put keys in, and the limits set
 * stay under the owner's.
 */
export async function authorizeUpdate(tx: Repositories, principal: Principal, right: KeyWriteRight, current: KeyRow, fields: KeyFields, passed: string): Promise<void> {
  if (right === 'admin') return
  refuseChangedFields(fields as Record<string, unknown>, ADMIN_ONLY_KEY_FIELDS, {
    spend: current.spend,
    blocked: current.blocked,
    budget_id: current.budgetId,
    temp_budget_increase: current.tempBudgetIncrease,
    temp_budget_expiry: current.tempBudgetExpiry?.toISOString() ?? null,
  })
  refuseOrganization(principal, fields, current.organizationId)
  refuseRemovedCap('max_budget', fields.max_budget, current.maxBudget)
  if (fields.budget_duration !== undefined && fields.budget_duration !== current.budgetDuration && !mayResetKeySpend(right)) {
    throw fieldRefused('budget_duration', "a new window resets the key's spend; only a proxy, organization or team admin may")
  }
  if (fields.user_id !== undefined && fields.user_id !== current.userId && fields.user_id !== principal.userId) {
    throw forbidden(`User=${principal.userId} is not allowed to update key=${keyLabel(passed)} to belong to user=${fields.user_id}`)
  }
  const teamId = fields.team_id === undefined ? current.teamId : fields.team_id
  const moved = teamId !== current.teamId
  if (moved && right === 'team_member') throw fieldRefused('team_id', "only the team's admins move its keys")
  const team = teamId ? await tx.teams.get(teamId) : null
  if (teamId && !team) throw teamNotFound(teamId)
  if (team && moved) checkTeamKeyRight(principal, team, '/key/generate')
  const userId = fields.user_id === undefined ? current.userId : fields.user_id
  if (!team && userId === null) throw fieldRefused('user_id=None', 'a personal key belongs to its caller')
  const user = !team && userId ? await tx.users.get(userId) : null
  checkKeyCeilings(fields, ownerOf(team, user), moved || (!team && current.teamId !== null) ? current : undefined)
}
