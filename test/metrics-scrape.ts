/**
 * Reading a Prometheus text scrape in tests: the value of the one series of a metric whose labels include the
 * given ones (as printed, e.g. `'1.0'`, `'6.5000000000000004e-06'`, `'+Inf'`), or undefined when none does.
 */
import type { TestGateway } from './gateway'

function labelsOf(line: string): Record<string, string> {
  const open = line.indexOf('{')
  const close = line.lastIndexOf('}')
  const labels: Record<string, string> = {}
  if (open === -1) return labels
  for (const match of line.slice(open + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2]
  return labels
}

/** The sample lines of one metric (`name{…} value` or `name value`). */
export function samplesOf(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

export function sample(text: string, name: string, labels: Record<string, string> = {}): string | undefined {
  const matching = samplesOf(text, name).filter((line) => {
    const found = labelsOf(line)
    return Object.entries(labels).every(([label, value]) => found[label] === value)
  })
  if (matching.length > 1) throw new Error(`${matching.length} series of ${name} match ${JSON.stringify(labels)}:\n${matching.join('\n')}`)
  return matching[0]?.slice(matching[0].lastIndexOf(' ') + 1)
}

/** Elysia runs after-response hooks (where refusals are reported) in a `setImmediate` once a response is out. */
export const afterResponses = () => new Promise<void>((resolve) => setImmediate(resolve))

/** GET /metrics, once the after-response hooks of the requests answered so far have run. */
export async function scrape(gateway: TestGateway): Promise<string> {
  await afterResponses()
  const response = await gateway.call('GET', '/metrics')
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${response.text}`)
  return response.text
}
