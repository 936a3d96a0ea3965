import { describe, expect, test } from 'bun:test'
import { settingsFromObject } from '../config/load'
import { ModelCatalog } from './catalog'
import { deploymentId, upstreamModelFor, wildcardCapture } from './deployment'

const config = (modelList: unknown[], routerAliases?: Record<string, unknown>) =>
  settingsFromObject({ model_list: modelList, router_settings: routerAliases ? { model_group_alias: routerAliases } : {} }).config

describe('deployments and the model catalog', () => {
  test('a deployment id is model_info.id, else a hash of model_name + litellm_params that ignores key order', () => {
    const a = { model_name: 'm', litellm_params: { model: 'openai/x', api_base: 'http://a/v1', rpm: 5 } }
    const b = { model_name: 'm', litellm_params: { rpm: 5, api_base: 'http://a/v1', model: 'openai/x' } }
    expect(deploymentId(a)).toBe(deploymentId(b))
    expect(deploymentId(a)).toMatch(/^[0-9a-f]{64}$/)
    expect(deploymentId({ ...a, model_name: 'n' })).not.toBe(deploymentId(a))
    expect(deploymentId({ ...a, litellm_params: { ...a.litellm_params, api_base: 'http://b/v1' } })).not.toBe(deploymentId(a))
    expect(deploymentId({ ...a, model_info: { id: 'fixed' } })).toBe('fixed')
  })

  test('groups, wildcard deployments (most specific first, catch-all last), access groups and router aliases', () => {
    const catalog = ModelCatalog.fromConfig(
      config(
        [
          { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' }, model_info: { access_groups: ['g'] } },
          { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o', api_base: 'http://second/v1' } },
          { model_name: '*', litellm_params: { model: 'openai/*' } },
          { model_name: 'openai/*', litellm_params: { model: 'openai/*' } },
          {
            model_name: 'llama',
            litellm_params: { model: 'azure/llama-deploy', api_base: 'https://x.openai.azure.com', api_key: 'k', api_version: '2024-10-21' },
            model_info: { access_groups: ['g'] },
          },
        ],
        { fast: 'llama', hidden: { model: 'gpt-4o', hidden: true } },
      ),
    )
    expect(catalog.modelNames()).toEqual(['gpt-4o', 'llama'])
    expect(catalog.wildcardNames()).toEqual(['openai/*', '*'])
    expect(catalog.resolve('gpt-4o')!.deployments).toHaveLength(2)
    expect(catalog.resolve('openai/o3')!.deployments[0].modelName).toBe('openai/*')
    expect(catalog.resolve('anything')!).toMatchObject({ modelGroup: 'anything' })
    expect(catalog.resolve('anything')!.deployments[0].modelName).toBe('*')
    expect(catalog.accessGroupMembers('g')).toEqual(['gpt-4o', 'llama'])
    expect(catalog.groupUsesProvider('llama', 'azure')).toBe(true)
    expect(catalog.groupUsesProvider('llama', 'openai')).toBe(false)
    expect(catalog.routerAlias('hidden')).toEqual({ alias: 'hidden', target: 'gpt-4o', hidden: true })
    const wildcard = catalog.resolve('openai/o3')!.deployments[0]
    expect(upstreamModelFor(wildcard, 'openai/o3')).toBe('o3')
    expect(upstreamModelFor(catalog.resolve('anything')!.deployments[0], 'anything')).toBe('anything')
    expect(upstreamModelFor(catalog.resolve('gpt-4o')!.deployments[0], 'gpt-4o')).toBe('gpt-4o')
  })

  test('wildcard patterns match literally outside the star', () => {
    expect(wildcardCapture('openai/*', 'openai/gpt-4o')).toBe('gpt-4o')
    expect(wildcardCapture('openai/*', 'openaiX/gpt')).toBeNull()
    expect(wildcardCapture('gpt-*-mini', 'gpt-4o-mini')).toBe('4o')
    expect(wildcardCapture('a.b/*', 'aXb/c')).toBeNull()
    expect(wildcardCapture('*', '')).toBe('')
  })
})
