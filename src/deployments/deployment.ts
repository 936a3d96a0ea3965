/**
 * A deployment: one `model_list` entry, resolved once at boot into what the data plane needs per request.
 * `apiKey` is the only secret in it; nothing that logs, answers or records a deployment may read it
 * (`publicView` is what may leave the process).
 */
import { createHash } from 'node:crypto'
import type { Deployment as DeploymentConfig } from '../config/schema'
import { providerPrefixOf } from '../config/providers'

export type DeploymentMode = 'chat' | 'completion' | 'embedding'

export type Deployment = {
  /** `model_info.id`, else a stable hash of model_name + litellm_params (same on every instance and restart). */
  readonly id: string
  /** The public name (model group); may be a wildcard pattern like `openai/*` or `*`. */
  readonly modelName: string
  /** `litellm_params.model` as configured, e.g. `openai/gpt-4o` or `openai/*`. */
  readonly litellmModel: string
  /** The provider prefix (`openai` for a bare name). */
  readonly provider: string
  /** The model name sent upstream (prefix removed); contains `*` for wildcard deployments. */
  readonly upstreamModel: string
  readonly apiBase: string | null
  readonly apiKey: string | null
  readonly apiVersion: string | null
  /** `litellm_params.timeout`, seconds. */
  readonly timeoutSeconds: number | null
  readonly accessGroups: readonly string[]
  readonly mode: DeploymentMode | null
  readonly isWildcard: boolean
  /** Position in `model_list`. */
  readonly index: number
  readonly config: DeploymentConfig
}

const stripPrefix = (model: string) => {
  const slash = model.indexOf('/')
  return slash === -1 ? model : model.slice(slash + 1)
}

/** JSON with object keys sorted at every level, so the hash does not depend on YAML key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function deploymentId(entry: DeploymentConfig): string {
  if (entry.model_info?.id) return entry.model_info.id
  return createHash('sha256').update(canonicalJson({ model_name: entry.model_name, litellm_params: entry.litellm_params })).digest('hex')
}

export function toDeployment(entry: DeploymentConfig, index: number): Deployment {
  const params = entry.litellm_params
  return {
    id: deploymentId(entry),
    modelName: entry.model_name,
    litellmModel: params.model,
    provider: providerPrefixOf(params.model),
    upstreamModel: stripPrefix(params.model),
    apiBase: params.api_base ?? null,
    apiKey: params.api_key ?? null,
    apiVersion: params.api_version ?? null,
    timeoutSeconds: params.timeout ?? null,
    accessGroups: entry.model_info?.access_groups ?? [],
    mode: entry.model_info?.mode ?? null,
    isWildcard: entry.model_name.includes('*'),
    index,
    config: entry,
  }
}

/**
 * The upstream model for a request that a deployment serves: the `*` of a wildcard deployment is replaced by
 * what the request's name matched (`openai/*` serving `openai/gpt-x` → `gpt-x`; `*` serving `llama3` → `llama3`).
 */
export function upstreamModelFor(deployment: Deployment, requested: string): string {
  if (!deployment.upstreamModel.includes('*')) return deployment.upstreamModel
  const captured = wildcardCapture(deployment.modelName, requested) ?? requested
  return deployment.upstreamModel.replace('*', captured)
}

const patterns = new Map<string, RegExp>()

/** Whether `name` fits a pattern with `*` wildcards, and what the first `*` matched (null when it does not fit). */
export function wildcardCapture(pattern: string, name: string): string | null {
  let regex = patterns.get(pattern)
  if (!regex) {
    const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('(.*)')
    regex = new RegExp(`^${source}$`, 's')
    // Patterns come from config and from key/team model lists: bounded in practice, capped in any case.
    if (patterns.size >= 10_000) patterns.clear()
    patterns.set(pattern, regex)
  }
  const match = regex.exec(name)
  return match ? (match[1] ?? '') : null
}
