/**
 * Budgets through the compiled binary, started from an empty folder with a config whose `llama3` deployment
 * is the fake upstream, priced so its usage (10 prompt + 5 completion tokens) costs 3.5e-06: seed 003 with curl
 * exactly as the user runs it, and a two-second key window on the real clock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { buildBinary, emptyFolder, startBinary, type RunningBinary } from './binary'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'

let running: RunningBinary
let upstream: FakeUpstream

beforeAll(async () => {
  const binary = await buildBinary()
  upstream = await startFakeUpstream()
  const folder = emptyFolder()
  await Bun.write(
    join(folder, 'config.yaml'),
    [
      'model_list:',
      '  - model_name: llama3',
      '    litellm_params:',
      '      model: openai/meta-llama-3',
      `      api_base: ${upstream.openaiBase}`,
      '      api_key: sk-upstream-key',
      '      input_cost_per_token: 3.0e-7',
      '      output_cost_per_token: 1.0e-7',
      '',
    ].join('\n'),
  )
  running = await startBinary(binary, { cwd: folder, args: ['--config', 'config.yaml', '--port', '0'], env: { LITELLM_MASTER_KEY: 'sk-1234' } })
}, 120_000)
afterAll(async () => {
  await running?.stop()
  await upstream?.stop()
})

/** curl with the seed's spelling; returns the status and the body exactly as received. */
async function curl(path: string, key: string, body: string): Promise<{ status: number; text: string }> {
  const args = ['-sS', '-w', '\n%{http_code}', '-X', 'POST', `${running.url}${path}`, '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: application/json', '-d', body]
  const child = Bun.spawn(['curl', ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (code !== 0) throw new Error(`curl failed (${code}): ${err}`)
  const cut = out.lastIndexOf('\n')
  return { status: Number(out.slice(cut + 1)), text: out.slice(0, cut) }
}

const SEED_CHAT = ` {
"model": "llama3",
"messages": [
{
"role": "user",
"content": "hi"
}
]
}`

describe('budgets through the compiled binary', () => {
  test('seed 003: the second chat of a team with max_budget 1e-09 gets the seed error, byte for byte', async () => {
    const before = Date.now()
    const team = await curl('/team/new', 'sk-1234', `{\n  "team_alias": "QA Prod Bot",\n  "max_budget": 0.000000001,\n  "budget_duration": "1d"\n}`)
    expect(team.status).toBe(200)
    const created = JSON.parse(team.text)
    expect(created).toMatchObject({ team_alias: 'QA Prod Bot', max_budget: 1e-9, budget_duration: '1d' })
    const resetAt = Date.parse(created.budget_reset_at)
    expect(resetAt).toBeGreaterThanOrEqual(before + 86_400_000 - 1000)
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 86_400_000)

    const key = JSON.parse((await curl('/key/generate', 'sk-1234', `{"team_id": "${created.team_id}"}`)).text).key
    const first = await curl('/chat/completions', key, SEED_CHAT)
    expect(first.status).toBe(200)
    expect(JSON.parse(first.text).choices[0].message.content).toBe('Hello from the fake upstream')
    const second = await curl('/chat/completions', key, SEED_CHAT)
    expect(second.status).toBe(400)
    expect(second.text).toBe('{"error":{"message":"Budget has been exceeded! Current cost: 3.5e-06, Max budget: 1e-09","type":"auth_error","param":null,"code":400}}')
  }, 30_000)

  test('a key with budget_duration "2s" is refused over budget and served again within 3 s, its window moved on', async () => {
    const generated = JSON.parse((await curl('/key/generate', 'sk-1234', '{"max_budget": 0.000000001, "budget_duration": "2s"}')).text)
    const firstEnd = Date.parse(generated.budget_reset_at)
    expect((await curl('/chat/completions', generated.key, SEED_CHAT)).status).toBe(200)
    expect((await curl('/chat/completions', generated.key, SEED_CHAT)).status).toBe(400)
    const refusedAt = Date.now()
    let served = false
    while (!served && Date.now() - refusedAt < 3000) {
      await Bun.sleep(100)
      served = (await curl('/chat/completions', generated.key, SEED_CHAT)).status === 200
    }
    expect(served).toBe(true)
    const info = await fetch(`${running.url}/key/info?key=${generated.key}`, { headers: { authorization: 'Bearer sk-1234' } }).then((r) => r.json() as Promise<any>)
    expect(Date.parse(info.info.budget_reset_at)).toBeGreaterThan(firstEnd)
    expect(info.info.spend).toBe(3.5e-6)
  }, 30_000)
})
