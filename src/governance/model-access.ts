/**
 * Model resolution and access (§6.2), as pure functions of the caller's model lists and the catalog:
 * alias rewrite, the key → team → member → user → organization checks with the contract's denial messages,
 * and the list of models a caller may use (`/v1/models`).
 */
import type { Principal } from '../auth/principal'
import type { ModelCatalog, ModelTarget } from '../deployments/catalog'
import { wildcardCapture } from '../deployments/deployment'
import { ApiError, invalidRequest, unauthorized } from '../http/errors'
import { pythonList } from '../lib/python-float'

/** Every model list that applies to a caller; null = that level does not apply. Empty lists restrict nothing. */
export type AccessSubject = {
  readonly keyModels: readonly string[] | null
  readonly team: { readonly teamId: string; readonly models: readonly string[] } | null
  readonly member: { readonly userId: string; readonly teamId: string; readonly models: readonly string[] } | null
  /** Personal keys only (a team key is governed by its team's list). */
  readonly userModels: readonly string[] | null
  readonly orgModels: readonly string[] | null
  /** Key `aliases`, then team `model_aliases` (router aliases come from the catalog). */
  readonly keyAliases: Readonly<Record<string, string>>
  readonly teamAliases: Readonly<Record<string, string>>
}

const UNRESTRICTED_ENTRIES = new Set(['*', 'all-proxy-models'])
export const ALL_TEAM_MODELS = 'all-team-models'
export const NO_DEFAULT_MODELS = 'no-default-models'

export function accessSubjectOf(principal: Principal, memberModels: readonly string[] | null, orgModels: readonly string[] | null): AccessSubject {
  const { key, team, user, membership } = principal
  return {
    keyModels: key ? key.models : null,
    team: team ? { teamId: team.teamId, models: team.models } : null,
    member: team && membership && memberModels ? { userId: membership.userId, teamId: team.teamId, models: memberModels } : null,
    userModels: !team && user ? user.models : null,
    orgModels,
    keyAliases: key?.aliases ?? {},
    teamAliases: team?.modelAliases ?? {},
  }
}

/** Whether one list entry admits `name`: the name itself, an access group holding it, or a wildcard fitting it. */
function entryAllows(entry: string, name: string, catalog: ModelCatalog): boolean {
  if (entry === name || UNRESTRICTED_ENTRIES.has(entry)) return true
  const members = catalog.accessGroupMembers(entry)
  if (members?.includes(name)) return true
  if (!entry.includes('*')) return false
  if (wildcardCapture(entry, name) !== null) return true
  // `openai/*` also admits every configured model served by the `openai` provider.
  return entry.endsWith('/*') && catalog.groupUsesProvider(name, entry.slice(0, -2))
}

/** An empty list restricts nothing. */
export function listAllows(list: readonly string[], names: readonly string[], catalog: ModelCatalog): boolean {
  if (list.length === 0) return true
  return list.some((entry) => names.some((name) => entryAllows(entry, name, catalog)))
}

/** Alias rewrite, first match wins: key `aliases`, team `model_aliases`, `router_settings.model_group_alias`. */
export function aliasTarget(subject: AccessSubject, catalog: ModelCatalog, name: string): string | null {
  if (Object.hasOwn(subject.keyAliases, name)) return subject.keyAliases[name]
  if (Object.hasOwn(subject.teamAliases, name)) return subject.teamAliases[name]
  return catalog.routerAlias(name)?.target ?? null
}

const modelDenied = (type: string, message: string) => unauthorized(message, type, 'model')

/**
 * The first level that refuses `requested` (or its alias `target`: either being allowed is enough), as the
 * contract's 401; null when every level allows it.
 */
export function modelAccessDenial(subject: AccessSubject, catalog: ModelCatalog, requested: string, target: string | null): ApiError | null {
  const names = target === null || target === requested ? [requested] : [requested, target]
  const allows = (list: readonly string[]) => listAllows(list, names, catalog)
  const keyList = subject.keyModels
  if (keyList && !keyList.includes(ALL_TEAM_MODELS) && !allows(keyList)) {
    return modelDenied(
      'key_model_access_denied',
      `key not allowed to access model. This key can only access models=${pythonList(keyList)}. Tried to access ${requested}`,
    )
  }
  if (subject.team && !allows(subject.team.models)) {
    return modelDenied(
      'team_model_access_denied',
      `Team not allowed to access model. Team=${subject.team.teamId}, Model=${requested}. Allowed team models = ${pythonList(subject.team.models)}`,
    )
  }
  if (subject.member && !allows(subject.member.models)) {
    const { userId, teamId, models } = subject.member
    return modelDenied(
      'team_model_access_denied',
      `Team member not allowed to access model. User=${userId}, Team=${teamId}, Model=${requested}, Allowed member models = ${pythonList(models)}`,
    )
  }
  if (subject.userModels) {
    if (subject.userModels.includes(NO_DEFAULT_MODELS)) {
      return modelDenied(
        'user_model_access_denied',
        `User not allowed to access model. No default model access, only team models allowed. Tried to access ${requested}`,
      )
    }
    if (!allows(subject.userModels)) {
      return modelDenied(
        'user_model_access_denied',
        `user not allowed to access model. This user can only access models=${pythonList(subject.userModels)}. Tried to access ${requested}`,
      )
    }
  }
  if (subject.orgModels && !allows(subject.orgModels)) {
    return modelDenied(
      'org_model_access_denied',
      `org not allowed to access model. This org can only access models=${pythonList(subject.orgModels)}. Tried to access ${requested}`,
    )
  }
  return null
}

/**
 * §6.2 in order: alias rewrite, access checks, then the name must resolve to a group, an alias target or a
 * wildcard deployment. Throws the contract's 401 or 400.
 */
export function resolveModel(subject: AccessSubject, catalog: ModelCatalog, requested: string, route: string): ModelTarget {
  const target = aliasTarget(subject, catalog, requested)
  const denial = modelAccessDenial(subject, catalog, requested, target)
  if (denial) throw denial
  const resolved = catalog.resolve(target ?? requested)
  if (!resolved) {
    throw invalidRequest(
      `${route}: Invalid model name passed in model=${requested}. Call \`/v1/models\` to view available models for your key.`,
      'model',
    )
  }
  return resolved
}

/** Like `resolveModel`, but null instead of an error (fallbacks, the single-model lookup). */
export function tryResolveModel(subject: AccessSubject, catalog: ModelCatalog, requested: string): ModelTarget | null {
  const target = aliasTarget(subject, catalog, requested)
  if (modelAccessDenial(subject, catalog, requested, target)) return null
  return catalog.resolve(target ?? requested)
}

/** Expands list entries into model names: `*`/`all-proxy-models` → all, access groups → members, wildcards → matches. */
function expandList(list: readonly string[], catalog: ModelCatalog, includeWildcards: boolean): string[] {
  const out: string[] = []
  for (const entry of list) {
    if (UNRESTRICTED_ENTRIES.has(entry)) out.push(...catalog.modelNames(), ...(includeWildcards ? catalog.wildcardNames() : []))
    else if (catalog.accessGroupMembers(entry)) out.push(...catalog.accessGroupMembers(entry)!)
    else if (entry.includes('*')) {
      out.push(...catalog.modelNames().filter((name) => entryAllows(entry, name, catalog)))
      if (includeWildcards) out.push(entry)
    } else out.push(entry)
  }
  return out
}

/**
 * The models a caller may use (§5.9): the key's list if it has one, else its team's (personal keys: the user's),
 * else every configured model; expanded, then kept only where a request would be admitted, plus aliases whose
 * target is admitted. Wildcard entries only when `includeWildcards` (`return_wildcard_routes=true`).
 */
export function accessibleModels(subject: AccessSubject, catalog: ModelCatalog, includeWildcards: boolean): string[] {
  const keyList = subject.keyModels?.filter((entry) => entry !== ALL_TEAM_MODELS) ?? []
  const source = keyList.length > 0 ? keyList : subject.team ? subject.team.models : (subject.userModels ?? [])
  const candidates =
    source.length > 0 && !source.includes(NO_DEFAULT_MODELS)
      ? expandList(source, catalog, includeWildcards)
      : source.includes(NO_DEFAULT_MODELS)
        ? []
        : [...catalog.modelNames(), ...(includeWildcards ? catalog.wildcardNames() : [])]
  const admitted = (name: string) => {
    if (name.includes('*')) return includeWildcards && !modelAccessDenial(subject, catalog, name, null)
    return catalog.resolve(name) !== null && !modelAccessDenial(subject, catalog, name, null)
  }
  const names = new Set(candidates.filter(admitted))
  const aliases: Array<[string, string]> = [
    ...Object.entries(subject.keyAliases),
    ...Object.entries(subject.teamAliases),
    ...catalog.routerAliases().filter((a) => !a.hidden).map((a): [string, string] => [a.alias, a.target]),
  ]
  for (const [alias, target] of aliases) {
    if (!names.has(alias) && catalog.resolve(target) && !modelAccessDenial(subject, catalog, alias, target)) names.add(alias)
  }
  return [...names]
}
