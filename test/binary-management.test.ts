/**
 * The management API through the compiled binary: an organization, a team in it, a user added to the team and
 * a key for that user in that team, each read back from every side.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { buildBinary, emptyFolder, startBinary } from './binary'

const MASTER_KEY = 'sk-binary-management-master-key-0123'

let binary: string
beforeAll(async () => {
  binary = await buildBinary()
}, 120_000)

describe('the compiled binary serves the management API', () => {
  test('organization → team in it → user added to the team → key for that user in that team, linked both ways', async () => {
    const running = await startBinary(binary, { cwd: emptyFolder(), args: ['--port', '0'], env: { LITELLM_MASTER_KEY: MASTER_KEY } })
    const call = async (method: string, path: string, body?: unknown, key = MASTER_KEY) => {
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: response.status, body: (await response.json()) as any }
    }
    try {
      const organization = await call('POST', '/organization/new', { organization_alias: 'Acme', max_budget: 100, tpm_limit: 10_000 })
      expect(organization.status).toBe(200)
      const organizationId = organization.body.organization_id
      expect(organization.body.litellm_budget_table).toMatchObject({ max_budget: 100, tpm_limit: 10_000 })

      const team = await call('POST', '/team/new', { team_alias: 'Platform', organization_id: organizationId, max_budget: 50 })
      expect(team.status).toBe(200)
      const teamId = team.body.team_id
      const tooBig = await call('POST', '/team/new', { team_alias: 'Too big', organization_id: organizationId, tpm_limit: 20_000 })
      expect(tooBig.status).toBe(400)
      expect(tooBig.body.error.param).toBe('tpm_limit')

      const user = await call('POST', '/user/new', { user_email: 'dev@acme.test', auto_create_key: false })
      expect(user.body.key).toBeNull()
      const userId = user.body.user_id
      const added = await call('POST', '/team/member_add', { team_id: teamId, member: { user_id: userId, role: 'user' } })
      expect(added.status).toBe(200)

      const key = await call('POST', '/key/generate', { team_id: teamId, user_id: userId, key_alias: 'dev-platform' })
      expect(key.status).toBe(200)
      expect(key.body).toMatchObject({ team_id: teamId, user_id: userId, organization_id: organizationId })

      const teamInfo = await call('GET', `/team/info?team_id=${teamId}`)
      expect(teamInfo.body.team_info).toMatchObject({ organization_id: organizationId, members_with_roles: [{ user_id: userId, user_email: 'dev@acme.test', role: 'user' }] })
      expect(teamInfo.body.keys).toEqual([expect.objectContaining({ key_alias: 'dev-platform', user_id: userId })])

      const userInfo = await call('GET', `/user/info?user_id=${userId}`)
      expect(userInfo.body.user_info.teams).toEqual([teamId])
      expect(userInfo.body.teams).toEqual([expect.objectContaining({ team_id: teamId, organization_id: organizationId })])
      expect(userInfo.body.keys).toEqual([expect.objectContaining({ key_alias: 'dev-platform', team_id: teamId, organization_id: organizationId })])

      const organizationInfo = await call('GET', `/organization/info?organization_id=${organizationId}`)
      expect(organizationInfo.body.teams).toEqual([expect.objectContaining({ team_id: teamId, members_with_roles: [expect.objectContaining({ user_id: userId })] })])

      // The key acts as its user: it may read itself; an organization it is not a member of answers as missing.
      expect((await call('GET', '/user/info', undefined, key.body.key)).body.user_id).toBe(userId)
      expect((await call('GET', '/organization/info?organization_id=' + organizationId, undefined, key.body.key)).status).toBe(404)
    } finally {
      await running.stop()
    }
  }, 30_000)
})
