/** Data-plane routes (OpenAI-compatible), with and without the `/v1` prefix. */
const DATA_PLANE = /^(\/v1)?\/(chat\/completions|completions|embeddings|models(\/.*)?)\/?$/

export function isDataPlanePath(path: string): boolean {
  return DATA_PLANE.test(path)
}

/** The path a route table sees: the request path with one trailing slash removed (never the Host header). */
export function routePath(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const end = url.indexOf('?', start)
  const path = end === -1 ? url.slice(start) : url.slice(start, end)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}
