/**
 * One health probe of one deployment (§5.10), by its `model_info.mode`: chat → a one-token completion,
 * completion → a one-token text completion, embedding → one input. It goes through the same provider adapter
 * and attempt code as proxied traffic, but not through admission or the usage sink: a probe is never charged
 * to a budget, counted in a rate limit or written to the spend log. Bounded by `model_info.health_check_timeout`
 * (else 60 s), whatever the deployment's request timeout is.
 */
import type { Deployment, DeploymentMode } from '../../deployments/deployment'
import type { ProviderRegistry } from '../../providers/registry'
import { createAttempt } from '../proxy/forward'
import type { ProxyBody } from '../proxy/model'

export const DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS = 60
/** An upstream's error text can be long (HTML error pages); the report keeps the start. */
const MAX_ERROR_LENGTH = 500

export type ProbeResult = {
  readonly deployment: Deployment
  readonly healthy: boolean
  readonly error: string | null
}

function probeBody(mode: DeploymentMode, model: string): ProxyBody {
  if (mode === 'embedding') return { model, input: 'ping' }
  if (mode === 'completion') return { model, prompt: 'ping', max_tokens: 1 }
  return { model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }
}

export async function probeDeployment(providers: ProviderRegistry, deployment: Deployment): Promise<ProbeResult> {
  try {
    return await probe(providers, deployment)
  } catch (error) {
    // A bug in an adapter is this deployment's failure, not the whole report's.
    return { deployment, healthy: false, error: `Health check failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, MAX_ERROR_LENGTH) }
  }
}

async function probe(providers: ProviderRegistry, deployment: Deployment): Promise<ProbeResult> {
  const operation = deployment.mode ?? 'chat'
  const attempt = createAttempt({
    providers,
    operation,
    body: probeBody(operation, deployment.modelName),
    stream: false,
    bodyOverrides: {},
    clientSignal: null,
  })
  // The health-check timeout replaces the deployment's own request timeout.
  const timeoutSeconds = deployment.config.model_info?.health_check_timeout ?? DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS
  const result = await attempt(deployment, { modelGroup: deployment.modelName, deployments: [deployment] }, { timeoutSeconds })
  if (!result.ok) return { deployment, healthy: false, error: result.failure.error.message.slice(0, MAX_ERROR_LENGTH) }
  try {
    result.value.provider.parseResponse(result.value.call, result.value.text ?? '')
  } catch {
    return { deployment, healthy: false, error: `The upstream answered HTTP ${result.value.response.status} with a body that is not a valid response` }
  }
  return { deployment, healthy: true, error: null }
}
