/**
 * Who a data-plane request is for and what it carries (§6.3 steps 4–6): the end user (resolved once, before
 * any check), the tags, `spend_logs_metadata`, and the caller's model lists — all from the entity caches, so a
 * warm request makes no database query.
 */
import type { AppContext } from '../../app-context'
import type { Principal } from '../../auth/principal'
import type { GeneralSettings } from '../../config/schema'
import { accessSubjectOf, type AccessSubject } from '../../governance/model-access'
import { forbidden } from '../../http/errors'

type Body = Readonly<Record<string, unknown>>

const asRecord = (value: unknown): Record<string, unknown> | null =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null

/** The end user: body `user`, else the header mapped to the `customer` role, else `user_header_name`. */
export function endUserOf(body: Body, headers: Headers, general: GeneralSettings): string | null {
  if (typeof body.user === 'string' && body.user !== '') return body.user
  const mapped = general.user_header_mappings?.find((m) => m.litellm_user_role === 'customer')?.header_name
  for (const name of [mapped, general.user_header_name]) {
    if (!name) continue
    const value = headers.get(name)?.trim()
    if (value) return value
  }
  return null
}

/** A blocked end user is refused (403) before any other check that depends on them. */
export async function checkEndUser(deps: Pick<AppContext, 'caches'>, endUser: string | null): Promise<void> {
  if (!endUser) return
  const row = await deps.caches.endUsers.get(endUser)
  if (row?.blocked) throw forbidden(`End User=${endUser} is blocked. Update via \`/customer/unblock\` if you're an admin.`)
}

function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : []
}

/** Union (first occurrence order) of key, team, request `metadata.tags`/`litellm_metadata.tags`/`tags`, `x-litellm-tags`. */
export function requestTags(principal: Principal, body: Body, headers: Headers): string[] {
  const header = headers.get('x-litellm-tags')
  const all = [
    ...stringsIn(principal.key?.metadata?.tags),
    ...stringsIn(principal.team?.metadata?.tags),
    ...stringsIn(asRecord(body.metadata)?.tags),
    ...stringsIn(asRecord(body.litellm_metadata)?.tags),
    ...stringsIn(body.tags),
    ...(header ? header.split(',').map((tag) => tag.trim()).filter(Boolean) : []),
  ]
  return [...new Set(all)]
}

/** `spend_logs_metadata` of the team, the key and the request, merged in that order; null when none. */
export function spendLogsMetadataOf(principal: Principal, body: Body): Record<string, unknown> | null {
  const parts = [
    asRecord(principal.team?.metadata?.spend_logs_metadata),
    asRecord(principal.key?.metadata?.spend_logs_metadata),
    asRecord(asRecord(body.metadata)?.spend_logs_metadata),
    asRecord(asRecord(body.litellm_metadata)?.spend_logs_metadata),
  ].filter((part): part is Record<string, unknown> => part !== null)
  return parts.length === 0 ? null : Object.assign({}, ...parts)
}

/** The key's organization, else its team's. */
export function organizationIdOf(principal: Principal): string | null {
  return principal.key?.organizationId ?? principal.team?.organizationId ?? null
}

/** The caller's model lists, with the member's budget row and the organization read from the caches. */
export async function loadAccessSubject(deps: Pick<AppContext, 'caches'>, principal: Principal): Promise<AccessSubject> {
  const organizationId = organizationIdOf(principal)
  const memberBudgetId = principal.membership?.budgetId ?? null
  const organization = organizationId ? await deps.caches.organizations.get(organizationId) : null
  const memberBudget = memberBudgetId ? await deps.caches.budgets.get(memberBudgetId) : null
  const memberModels = memberBudget?.allowedModels?.length ? memberBudget.allowedModels : null
  const orgModels = organization?.models?.length ? organization.models : null
  return accessSubjectOf(principal, memberModels, orgModels)
}
