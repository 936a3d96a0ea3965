/**
 * A small world for authorization tests, made through the management API with the master key: an organization
 * with a team, its org admin, team admin, member and viewer (each with a personal key), and an outsider in a team
 * of another organization.
 */
import type { TestGateway } from './gateway'

export type RoleWorld = {
  /** Plaintext keys by user id: `org-admin`, `team-admin`, `member`, `viewer`, `outsider`. */
  keys: Record<string, string>
  admin(method: string, path: string, body?: unknown): Promise<any>
  /** Rows of `audit_log` so far. */
  auditCount(): Promise<number>
}

export const ORG = 'org-1'
export const TEAM = 'team-1'
export const OTHER_TEAM = 'team-2'

export async function createRoleWorld(gateway: TestGateway, team: Record<string, unknown> = {}): Promise<RoleWorld> {
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await gateway.call(method, path, { body })
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${response.text}`)
    return response.body
  }
  const keys: Record<string, string> = {}
  for (const [userId, role] of [
    ['org-admin', 'internal_user'],
    ['team-admin', 'internal_user'],
    ['member', 'internal_user'],
    ['viewer', 'internal_user_viewer'],
    ['outsider', 'internal_user'],
  ] as const) {
    keys[userId] = (await admin('POST', '/user/new', { user_id: userId, user_role: role })).key
  }
  await admin('POST', '/organization/new', { organization_id: ORG, organization_alias: 'Org' })
  await admin('POST', '/organization/new', { organization_id: 'org-2', organization_alias: 'Other org' })
  await admin('POST', '/organization/member_add', { organization_id: ORG, member: { user_id: 'org-admin', role: 'org_admin' } })
  const members = [
    { user_id: 'team-admin', role: 'admin' },
    { user_id: 'member', role: 'user' },
    { user_id: 'viewer', role: 'user' },
  ]
  await admin('POST', '/team/new', { team_id: TEAM, organization_id: ORG, members_with_roles: members, ...team })
  await admin('POST', '/team/new', { team_id: OTHER_TEAM, organization_id: 'org-2', members_with_roles: [{ user_id: 'outsider', role: 'user' }] })
  const auditCount = async () => (await gateway.store.repos.audit.list({}, { offset: 0, limit: 1 })).total
  return { keys, admin, auditCount }
}
