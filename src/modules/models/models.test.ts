import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from '../../../test/engines'
import { insertKey, insertTeam, insertUser } from '../../../test/fixtures'
import { startProxyGateway, UPSTREAM_KEY, type ProxyGateway } from '../../../test/proxy-gateway'

describeEachEngine('the model list and model info', (engine) => {
  let proxy: ProxyGateway
  const keys: Record<string, string> = {}
  const ids = async (path: string, key?: string) => (await proxy.gateway.call('GET', path, { key })).body.data.map((m: { id: string }) => m.id)

  beforeAll(async () => {
    proxy = await startProxyGateway(engine)
    const { repos } = proxy.gateway.store
    await insertTeam(repos, { teamId: 'team-1', models: ['gpt-4o', 'llama3'], modelAliases: { fast: 'gpt-4o-mini', smart: 'gpt-4o' } })
    await insertUser(repos, { userId: 'personal', models: ['gpt-4o-mini'] })
    await insertUser(repos, { userId: 'team-only', models: ['no-default-models'] })
    keys.team = (await insertKey(repos, { teamId: 'team-1' })).key
    keys.group = (await insertKey(repos, { models: ['premium'] })).key
    keys.aliased = (await insertKey(repos, { models: ['mine'], aliases: { mine: 'llama3' } })).key
    keys.personal = (await insertKey(repos, { userId: 'personal' })).key
    keys.teamOnly = (await insertKey(repos, { userId: 'team-only' })).key
    keys.wildcard = (await insertKey(repos, { models: ['openai/*'] })).key
  })
  afterAll(() => proxy.close())

  test('/v1/models lists the models the caller may use, in the OpenAI shape', async () => {
    const all = await proxy.gateway.call('GET', '/v1/models')
    expect(all.body).toEqual({
      object: 'list',
      data: ['gpt-4o', 'gpt-4o-mini', 'llama3', 'text-embedding-3-small', 'gpt4'].map((id) => ({ id, object: 'model', created: 1677610602, owned_by: 'openai' })),
    })
    expect(await ids('/models')).toEqual(['gpt-4o', 'gpt-4o-mini', 'llama3', 'text-embedding-3-small', 'gpt4'])
    expect(await ids('/v1/models?return_wildcard_routes=true')).toEqual(['gpt-4o', 'gpt-4o-mini', 'llama3', 'text-embedding-3-small', 'openai/*', 'gpt4'])
    // The team's list; its alias to an allowed model (smart) and the router's (gpt4) are listed, `fast` is not.
    expect(await ids('/v1/models', keys.team)).toEqual(['gpt-4o', 'llama3', 'smart', 'gpt4'])
    expect(await ids('/v1/models', keys.group)).toEqual(['gpt-4o', 'gpt4'])
    expect(await ids('/v1/models', keys.aliased)).toEqual(['mine'])
    expect(await ids('/v1/models', keys.personal)).toEqual(['gpt-4o-mini'])
    expect(await ids('/v1/models', keys.teamOnly)).toEqual([])
    expect(await ids('/v1/models', keys.wildcard)).toEqual(['gpt-4o', 'gpt-4o-mini', 'llama3', 'text-embedding-3-small', 'gpt4'])
    expect(await ids('/v1/models?return_wildcard_routes=true', keys.wildcard)).toContain('openai/*')
  })

  test('/v1/models/{model} answers one model the caller may use, else 404', async () => {
    const one = await proxy.gateway.call('GET', '/v1/models/llama3', { key: keys.team })
    expect(one.body).toEqual({ id: 'llama3', object: 'model', created: 1677610602, owned_by: 'openai' })
    expect((await proxy.gateway.call('GET', '/models/gpt4', { key: keys.team })).status).toBe(200)
    const hidden = await proxy.gateway.call('GET', '/v1/models/gpt-4o-mini', { key: keys.team })
    expect(hidden.status).toBe(404)
    expect(hidden.body.error).toEqual({
      message: "The model 'gpt-4o-mini' does not exist or you do not have access to it.",
      type: 'not_found_error',
      param: 'model',
      code: 404,
    })
    expect((await proxy.gateway.call('GET', '/v1/models/openai/*?x=1')).status).toBe(200)
    expect((await proxy.gateway.call('GET', '/v1/models/openai%2F*')).status).toBe(404)
    expect((await proxy.gateway.call('GET', '/v1/models/nope')).status).toBe(404)
  })

  test('/model/info shows the deployments the caller may use; api_base only to admins, api_key never', async () => {
    for (const path of ['/model/info', '/v1/model/info']) {
      const admin = await proxy.gateway.call('GET', path)
      expect(admin.body.data).toHaveLength(5)
      expect(admin.text).not.toContain(UPSTREAM_KEY)
      expect(admin.text).not.toContain('api_key')
      expect(admin.body.data[0]).toEqual({
        model_name: 'gpt-4o',
        litellm_params: { model: 'openai/gpt-4o', api_base: proxy.upstream.openaiBase, input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001 },
        model_info: {
          id: 'gpt-4o-deployment',
          mode: null,
          access_groups: ['premium'],
          max_tokens: null,
          max_input_tokens: null,
          max_output_tokens: null,
          input_cost_per_token: 0.0000025,
          output_cost_per_token: 0.00001,
          db_model: false,
        },
      })
    }
    const team = await proxy.gateway.call('GET', '/model/info', { key: keys.team })
    expect(team.body.data.map((d: any) => d.model_name)).toEqual(['gpt-4o', 'llama3'])
    expect(team.text).not.toContain('api_base')
    const embedding = (await proxy.gateway.call('GET', '/model/info')).body.data.find((d: any) => d.model_name === 'text-embedding-3-small')
    expect(embedding.model_info).toMatchObject({ mode: 'embedding', input_cost_per_token: 2e-8, output_cost_per_token: 0 })
    const mini = (await proxy.gateway.call('GET', '/model/info')).body.data.find((d: any) => d.model_name === 'gpt-4o-mini')
    expect(mini.model_info.id).toMatch(/^[0-9a-f]{64}$/)
    const filtered = await proxy.gateway.call('GET', `/model/info?litellm_model_id=${mini.model_info.id}`)
    expect(filtered.body.data.map((d: any) => d.model_name)).toEqual(['gpt-4o-mini'])
    expect((await proxy.gateway.call('GET', '/model/info?litellm_model_id=gpt-4o-mini', { key: keys.team })).body.data).toEqual([])
  })

  test('the model routes need a credential', async () => {
    for (const path of ['/v1/models', '/v1/models/gpt-4o', '/model/info']) {
      expect((await proxy.gateway.call('GET', path, { key: null })).status).toBe(401)
    }
  })
})
