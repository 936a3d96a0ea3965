/**
 * The acceptance test of the proxy: the official `openai` SDK against the compiled binary, started from an
 * empty folder with a config.yaml pointing at the fake upstream, with a team key seeded into its database.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI from 'openai'
import { openDatabase } from '../src/db/open'
import { createRepositories } from '../src/db/repositories'
import { systemClock } from '../src/lib/clock'
import { buildBinary, emptyFolder, runBinary, startBinary, type RunningBinary } from './binary'
import { startFakeUpstream, type FakeUpstream } from './fake-upstream'
import { insertKey, insertTeam } from './fixtures'
import { streamedChatViaSdk } from './sdk-stream'

const UPSTREAM_KEY = 'sk-upstream-only-the-gateway-knows'

describe('the compiled binary as an OpenAI-compatible proxy', () => {
  let upstream: FakeUpstream
  let running: RunningBinary
  let client: OpenAI

  beforeAll(async () => {
    const binary = await buildBinary()
    upstream = await startFakeUpstream()
    upstream.expectedApiKey = UPSTREAM_KEY
    const folder = emptyFolder()
    const deployment = (name: string, extra = '') =>
      `  - model_name: ${name}\n    litellm_params:\n      model: openai/${name}\n      api_base: ${upstream.openaiBase}\n      api_key: os.environ/UPSTREAM_KEY\n${extra}`
    writeFileSync(
      join(folder, 'config.yaml'),
      [
        'model_list:',
        deployment('gpt-4o', '      input_cost_per_token: 0.0000025\n      output_cost_per_token: 0.00001\n'),
        deployment('gpt-4o-mini'),
        deployment('text-embedding-3-small', '    model_info:\n      mode: embedding\n'),
        'general_settings:',
        '  master_key: sk-binary-proxy-master-key-0123456789',
        '',
      ].join('\n'),
    )
    const env = { UPSTREAM_KEY }
    const migrated = await runBinary(binary, { cwd: folder, args: ['migrate', '--config', 'config.yaml'], env })
    expect(migrated.code).toBe(0)
    const database = await openDatabase(`file:${join(folder, 'tollgate.db')}`)
    const repos = createRepositories(database, systemClock)
    const team = await insertTeam(repos, { teamAlias: 'sdk-team', models: ['gpt-4o', 'text-embedding-3-small'] })
    const { key } = await insertKey(repos, { teamId: team.teamId })
    await database.close()
    running = await startBinary(binary, { cwd: folder, args: ['--config', 'config.yaml', '--port', '0'], env })
    client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await running?.stop()
    await upstream?.stop()
  })

  test('chat', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0].message.content).toBe('Hello from the fake upstream')
    expect(completion.usage?.total_tokens).toBe(15)
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
  })

  test('streamed chat with include_usage', async () => {
    const { text, usage } = await streamedChatViaSdk(client, 'gpt-4o')
    expect(text).toBe('Hello from the fake upstream')
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 10 * 0.0000025 + 5 * 0.00001 })
  })

  test('embeddings', async () => {
    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] })
    expect(embeddings.data).toHaveLength(2)
    expect(embeddings.usage.prompt_tokens).toBe(10)
  })

  test("models.list shows only the team's models", async () => {
    const models = []
    for await (const model of client.models.list()) models.push(model.id)
    expect(models).toEqual(['gpt-4o', 'text-embedding-3-small'])
  })

  test("a model outside the team's list is refused with 401", async () => {
    const refused = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(refused.status).toBe(401)
    expect(refused.error).toMatchObject({ type: 'team_model_access_denied', param: 'model' })
    expect(running.output()).not.toContain(UPSTREAM_KEY)
  })
})
