/**
 * The user's own calls (seeds 000 and 003) as curl commands against the compiled binary started from an empty
 * folder: the seeds' headers and bodies verbatim, only host, port and ids substituted.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { buildBinary, emptyFolder, startBinary, type RunningBinary } from './binary'

const SEED_000_TEAM = '8d916b1c-510d-4894-a334-1c16a93344f5'
const DAY = 86_400_000

let running: RunningBinary
beforeAll(async () => {
  const binary = await buildBinary()
  // The seeds authenticate with `sk-1234`; configured as the master key it needs no substitution.
  running = await startBinary(binary, { cwd: emptyFolder(), args: ['--port', '0'], env: { LITELLM_MASTER_KEY: 'sk-1234' } })
}, 120_000)
afterAll(() => running?.stop())

/** Runs curl with the given arguments and returns the HTTP status and the parsed JSON body. */
async function curl(args: string[]): Promise<{ status: number; body: any }> {
  const child = Bun.spawn(['curl', '-sS', '-w', '\n%{http_code}', ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (code !== 0) throw new Error(`curl failed (${code}): ${err}`)
  const cut = out.lastIndexOf('\n')
  return { status: Number(out.slice(cut + 1)), body: JSON.parse(out.slice(0, cut)) }
}

/** Seed 000's spelling: `curl --location URL --header … --data-raw BODY`. */
const seed000 = (path: string, body: string) =>
  curl([`${running.url}${path}`, '--location', '--header', 'Authorization: Bearer sk-1234', '--header', 'Content-Type: application/json', '--data-raw', body])

/** Seed 003's spelling: `curl -X POST URL -H … -d BODY`. */
const seed003 = (path: string, body: string) =>
  curl(['-X', 'POST', `${running.url}${path}`, '-H', 'Authorization: Bearer sk-1234', '-H', 'Content-Type: application/json', '-d', body])

describe('seed 000: team budgets, rate limits and members through the compiled binary', () => {
  test('/team/new, /team/update (tpm_limit, then max_budget), /team/member_add, /team/member/delete', async () => {
    const created = await seed000(
      '/team/new',
      `{"team_id": "${SEED_000_TEAM}", "team_alias": "core-infra", "metadata": {"team": "core-infra", "app": "app2", "email": "ishaan@berri.ai"}}`,
    )
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({ team_id: SEED_000_TEAM, team_alias: 'core-infra', metadata: { team: 'core-infra', app: 'app2' } })

    const tpm = await seed000('/team/update', `{\n"team_id": "${SEED_000_TEAM}",\n"tpm_limit": 100\n}`)
    expect(tpm.status).toBe(200)
    expect(tpm.body).toMatchObject({ team_id: SEED_000_TEAM, data: { team_id: SEED_000_TEAM, team_alias: 'core-infra', tpm_limit: 100 } })

    const budget = await seed000('/team/update', `{\n"team_id": "${SEED_000_TEAM}",\n"max_budget": 10\n}`)
    expect(budget.status).toBe(200)
    expect(budget.body.data).toMatchObject({ team_id: SEED_000_TEAM, max_budget: 10, tpm_limit: 100 })

    const added = await seed000('/team/member_add', `{"team_id": "${SEED_000_TEAM}", "member": {"role": "user", "user_id": "krrish247652@berri.ai"}}`)
    expect(added.status).toBe(200)
    expect(added.body.team_id).toBe(SEED_000_TEAM)
    expect(added.body.members_with_roles).toEqual([{ user_id: 'krrish247652@berri.ai', user_email: null, role: 'user' }])

    const removed = await seed000('/team/member/delete', `{"team_id": "${SEED_000_TEAM}", "user_id": "krrish247652@berri.ai"}`)
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ team_id: SEED_000_TEAM, members_with_roles: [] })
  }, 30_000)
})

describe('seed 003: a team with a tiny daily budget and a key for it through the compiled binary', () => {
  test('/team/new with max_budget and budget_duration, then /key/generate with the team_id', async () => {
    const before = Date.now()
    const team = await seed003('/team/new', `{\n  "team_alias": "QA Prod Bot",\n  "max_budget": 0.000000001,\n  "budget_duration": "1d"\n}`)
    expect(team.status).toBe(200)
    expect(team.body).toMatchObject({ team_alias: 'QA Prod Bot', max_budget: 1e-9, budget_duration: '1d' })
    expect(team.body.team_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(team.body.budget_reset_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    const resetAt = Date.parse(team.body.budget_reset_at)
    expect(resetAt).toBeGreaterThanOrEqual(before + DAY - 1000)
    expect(resetAt).toBeLessThanOrEqual(Date.now() + DAY)

    const key = await seed003('/key/generate', `{"team_id": "${team.body.team_id}"}`)
    expect(key.status).toBe(200)
    expect(key.body.team_id).toBe(team.body.team_id)
    expect(key.body.key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/)
  }, 30_000)
})
