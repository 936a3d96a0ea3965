/**
 * Seed 003's advanced step against the compiled binary: after the seed's team, key and two requests, its
 * Prometheus scrape shows the team's remaining budget (max − spend, Python float format) with the spend and
 * request counters moved, and the process logs one line per request without the key.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { goFloat } from '../src/metrics/exposition'
import { buildBinary, emptyFolder, startBinary, type RunningBinary } from './binary'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { sample } from './metrics-scrape'
import { eventually } from './redis-server'

const MASTER = 'sk-1234'

describe('seed 003: the remaining team budget in Prometheus, through the compiled binary', () => {
  let upstream: FakeUpstream
  let running: RunningBinary
  beforeAll(async () => {
    const binary = await buildBinary()
    upstream = await startFakeUpstream()
    const folder = emptyFolder()
    // llama3 priced so that the fake upstream's 10 + 5 tokens cost the seed's 3.5e-06.
    writeFileSync(
      join(folder, 'config.yaml'),
      [
        'model_list:',
        '  - model_name: llama3',
        '    litellm_params:',
        '      model: openai/meta-llama-3-8b',
        `      api_base: ${upstream.openaiBase}`,
        '      input_cost_per_token: 0.00000015',
        '      output_cost_per_token: 0.0000004',
        'litellm_settings:',
        '  success_callback: ["prometheus"]',
        '  failure_callback: ["prometheus"]',
        '',
      ].join('\n'),
    )
    running = await startBinary(binary, { cwd: folder, args: ['--config', 'config.yaml', '--port', '0'], env: { LITELLM_MASTER_KEY: MASTER } })
  }, 120_000)
  afterAll(async () => {
    await running?.stop()
    await upstream?.stop()
  })

  const post = async (path: string, key: string, body: string) => {
    const response = await fetch(`${running.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body,
    })
    return { status: response.status, body: (await response.json()) as any }
  }
  const metrics = async () => (await fetch(`${running.url}/metrics`, { headers: { Authorization: `Bearer ${MASTER}` } })).text()

  test("after the seed's two requests, /metrics shows the team's remaining budget and the counters moved", async () => {
    const team = await post('/team/new', MASTER, '{\n  "team_alias": "QA Prod Bot",\n  "max_budget": 0.000000001,\n  "budget_duration": "1d"\n}')
    expect(team.status).toBe(200)
    const id = team.body.team_id
    const key = await post('/key/generate', MASTER, `{"team_id": "${id}"}`)
    const chat = ' {\n"model": "llama3",\n"messages": [\n{\n"role": "user",\n"content": "hi"\n}\n]\n}'
    const first = await post('/chat/completions', key.body.key, chat)
    expect(first.status).toBe(200)
    // With budget admission in place the second is refused (400, the seed's message); either way it is counted.
    const second = await post('/chat/completions', key.body.key, chat)
    expect([200, 400]).toContain(second.status)
    const served = second.status === 200 ? 2 : 1

    const spend = served * 0.0000035
    const line = `litellm_remaining_team_budget_metric{team="${id}",team_alias="QA Prod Bot",team_id="${id}"} ${goFloat(0.000000001 - spend)}`
    // The gauge follows the spend flush (every second).
    expect(await eventually(async () => (await metrics()).includes(line), 3000)).toBe(true)
    const text = await metrics()
    expect(sample(text, 'litellm_spend_metric_total', { team: id, team_alias: 'QA Prod Bot', model: 'meta-llama-3-8b' })).toBe(goFloat(spend))
    expect(sample(text, 'litellm_proxy_total_requests_metric_total', { team: id, status_code: '200' })).toBe(goFloat(served))
    expect(sample(text, 'litellm_total_tokens_metric_total', { team: id })).toBe(goFloat(15 * served))

    const requestLines = running
      .output()
      .split('\n')
      .filter((line) => line.includes('"message":"request"'))
    expect(requestLines).toHaveLength(2)
    expect(JSON.parse(requestLines[0])).toMatchObject({ team_id: id, model_group: 'llama3', status: 'success', http_status: 200 })
    expect(running.output()).not.toContain(key.body.key)
  }, 30_000)
})
