/**
 * `/openapi.json` and `/docs` are public and describe every route of the running app with the fields of the
 * schemas that validate it.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeEachEngine } from './engines'
import { startGateway, type TestGateway } from './gateway'

const openApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}')

describeEachEngine('API docs', (engine) => {
  let gateway: TestGateway
  let spec: any

  beforeAll(async () => {
    gateway = await startGateway(engine)
    const response = await gateway.call('GET', '/openapi.json', { key: null })
    expect(response.status).toBe(200)
    spec = response.body
  })
  afterAll(() => gateway.close())

  /** The properties of a documented JSON body (of its object variant when the body may also be null). */
  const bodyFields = (path: string, method = 'post') => {
    const schema = spec.paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema ?? {}
    const object = schema.properties ? schema : (schema.anyOf ?? []).find((variant: any) => variant.properties)
    return Object.keys(object?.properties ?? {})
  }

  test('every management and data-plane route is documented', () => {
    const routes = (gateway.app as unknown as { routes: { method: string; path: string }[] }).routes
    const undocumented = routes
      .filter((route) => !['/docs', '/openapi.json'].includes(route.path))
      .filter((route) => !spec.paths[openApiPath(route.path)]?.[route.method.toLowerCase()])
      .map((route) => `${route.method} ${route.path}`)
    expect(undocumented).toEqual([])
    expect(spec.info.title).toBe('Tollgate')
  })

  test("every route's documented body has exactly the fields of the schema that validates it", () => {
    const routes = (gateway.app as unknown as { routes: { method: string; path: string; hooks?: { body?: any } }[] }).routes
    let checked = 0
    for (const route of routes) {
      const schema = route.hooks?.body
      const shape = schema?.shape ?? schema?.def?.innerType?.def?.innerType?.shape ?? schema?.def?.innerType?.shape
      if (!shape) continue
      checked++
      const documented = bodyFields(openApiPath(route.path), route.method.toLowerCase())
      expect({ route: `${route.method} ${route.path}`, fields: documented.sort() }).toEqual({ route: `${route.method} ${route.path}`, fields: Object.keys(shape).sort() })
    }
    expect(checked).toBeGreaterThan(50)
  })

  test('bodies and queries carry the fields their schemas validate', () => {
    expect(bodyFields('/key/generate')).toEqual(expect.arrayContaining(['key_alias', 'max_budget', 'team_id', 'allowed_routes', 'key_type', 'guardrails']))
    expect(bodyFields('/team/new')).toEqual(expect.arrayContaining(['team_id', 'members_with_roles', 'team_member_permissions']))
    expect(bodyFields('/organization/update', 'patch')).toEqual(expect.arrayContaining(['organization_id', 'organization_alias']))
    expect(bodyFields('/v1/chat/completions')).toEqual(expect.arrayContaining(['model', 'messages', 'stream', 'user']))
    expect(bodyFields('/embeddings')).toEqual(expect.arrayContaining(['model', 'input']))
    const auditQuery = spec.paths['/audit'].get.parameters.map((p: any) => p.name)
    expect(auditQuery).toEqual(expect.arrayContaining(['page', 'page_size', 'table_name', 'object_id', 'changed_by', 'action', 'start_date', 'end_date']))
    expect(spec.paths['/key/{key}/regenerate'].post.parameters).toEqual([expect.objectContaining({ name: 'key', in: 'path' })])
  })

  test('/docs is a public page that reads /openapi.json', async () => {
    const page = await gateway.call('GET', '/docs', { key: null })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.text).toContain('data-url="/openapi.json"')
  })
})
