/**
 * The benchmark's baseline: a bare Bun.serve that forwards every request to the upstream and streams the
 * answer back — no auth, no parsing, no accounting. `bun scripts/bench/forwarder.ts UPSTREAM_URL` prints
 * `FORWARDER_URL=…`.
 */
const upstream = process.argv[2]
if (!upstream) throw new Error('usage: forwarder.ts UPSTREAM_URL')

const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    const url = new URL(request.url)
    const answer = await fetch(`${upstream}${url.pathname}`, {
      method: request.method,
      headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-key' },
      body: request.method === 'POST' ? await request.arrayBuffer() : undefined,
    })
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' } })
  },
})
process.stdout.write(`FORWARDER_URL=http://127.0.0.1:${server.port}\n`)
process.once('SIGTERM', () => process.exit(0))
