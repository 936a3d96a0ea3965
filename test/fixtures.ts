/**
 * Rows written straight through the repositories, for tests that need data without exercising the
 * management API (data-plane tests, fixtures for a compiled binary's database). Management tests create
 * their data through the API instead.
 */
import type { KeyRow, Repositories, TeamRow, UserRow } from '../src/db/ports'
import { newId, newVirtualKey } from '../src/lib/ids'
import { sha256Hex } from '../src/lib/secrets'

export async function insertTeam(repos: Repositories, fields: Partial<TeamRow> = {}): Promise<TeamRow> {
  return repos.teams.insert({
    teamId: newId(),
    metadata: {},
    models: [],
    teamMemberPermissions: ['/key/info', '/key/health'],
    ...fields,
  })
}

export async function insertUser(repos: Repositories, fields: Partial<UserRow> = {}): Promise<UserRow> {
  return repos.users.insert({ userId: newId(), userRole: 'internal_user', models: [], metadata: {}, ...fields })
}

/** Inserts a key and returns its row and plaintext (`key`). */
export async function insertKey(
  repos: Repositories,
  fields: Partial<KeyRow> & { key?: string } = {},
): Promise<{ row: KeyRow; key: string }> {
  const { key: given, ...rest } = fields
  const key = given ?? newVirtualKey()
  const row = await repos.keys.insert({
    token: sha256Hex(key),
    keyName: `sk-...${key.slice(-4)}`,
    models: [],
    aliases: {},
    metadata: {},
    allowedRoutes: [],
    modelMaxBudget: {},
    modelSpend: {},
    ...rest,
  })
  return { row, key }
}
