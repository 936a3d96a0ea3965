/** Small pieces every provider's request builder shares. */

/** `https://host/v1/` → `https://host/v1`: routes are appended with their own leading slash. */
export function trimBase(base: string): string {
  return base.endsWith('/') ? base.replace(/\/+$/, '') : base
}

/** JSON in; JSON or SSE out. */
export function jsonRequestHeaders(stream: boolean): Record<string, string> {
  return { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' }
}
