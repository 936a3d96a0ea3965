/**
 * `/openapi.json` and `/docs` (an API reference page reading it), both public (§4): every route of the app with
 * the fields of the same zod schemas that validate its query and body, converted by `@elysiajs/openapi`'s
 * generator with zod's own JSON Schema output. Schemas describe what a client sends (`io: 'input'`); parts JSON
 * Schema cannot express (transforms) are left open.
 *
 * The plugin's generator leaves a request body without content when a route's body parser is a function (ours
 * is: JSON whatever the Content-Type, bounded in size), so bodies are filled in here from the same schemas.
 */
import { toOpenAPISchema } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import { z } from 'zod'

const toJsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>

type Operation = { requestBody?: { content?: Record<string, unknown>; required?: boolean; description?: string } }
type RouteInfo = { method: string; path: string; hooks?: { body?: unknown; detail?: { hide?: boolean } } }

const isZod = (value: unknown): value is z.ZodType => value instanceof z.ZodType

/** `/key/:key/regenerate` → `/key/{key}/regenerate`, as the generator names paths. */
const openApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}')

function fillBodies(paths: Record<string, Record<string, Operation>>, routes: readonly RouteInfo[]): void {
  for (const route of routes) {
    const body = route.hooks?.body
    if (!isZod(body)) continue
    const operation = paths[openApiPath(route.path)]?.[route.method.toLowerCase()]
    if (!operation) continue
    const content = operation.requestBody?.content ?? {}
    if (Object.keys(content).length > 0) continue
    // A body a route accepts as absent (`nullish`) is optional.
    const required = !body.safeParse(undefined).success
    operation.requestBody = { ...operation.requestBody, required, content: { 'application/json': { schema: toJsonSchema(body) } } }
  }
}

const page = (title: string) => `<!doctype html>
<html>
  <head>
    <title>${title}</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" data-url="/openapi.json"></script>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
  </body>
</html>`

export function apiDocs(version: string) {
  const info = {
    title: 'Tollgate',
    version,
    description:
      'LiteLLM-compatible management API and OpenAI-compatible data plane. Send `Authorization: Bearer sk-…`; README\'s "Who may do what" says which roles may call which route.',
  }
  let cached: { routes: number; spec: unknown } | null = null
  const plugin = new Elysia({ name: 'api-docs' })
  return plugin
    .get('/openapi.json', () => {
      // Every route of the app (routes are global in Elysia), as the generator itself reads them.
      const routes = (plugin as unknown as { getGlobalRoutes(): RouteInfo[] }).getGlobalRoutes()
      if (cached?.routes === routes.length) return cached.spec
      const { paths, components } = toOpenAPISchema(plugin, { paths: ['/docs', '/openapi.json'] }, undefined, { zod: toJsonSchema })
      fillBodies(paths as Record<string, Record<string, Operation>>, routes)
      const spec = {
        openapi: '3.1.0',
        info,
        security: [{ bearer: [] }],
        paths,
        components: { ...components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      }
      cached = { routes: routes.length, spec }
      return spec
    })
    .get('/docs', () => new Response(page(info.title), { headers: { 'content-type': 'text/html; charset=utf-8' } }))
}

/** The docs of a route that reads its JSON body itself (the data plane): the schema of what it accepts. */
export function documentedBody(schema: z.ZodType) {
  return { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(schema) } } } }
}
