/** Deployments and scripted randomness for routing tests. */
import { toDeployment, type Deployment } from '../src/deployments/deployment'

/** A deployment of model group `modelName` whose id (`model_info.id`) is `id`. */
export function deployment(id: string, params: Record<string, unknown> = {}, modelName = 'm'): Deployment {
  return toDeployment({ model_name: modelName, litellm_params: { model: `openai/${id}`, ...params }, model_info: { id } }, 0)
}

/** A `random` that returns the given values in turn, then repeats the last one. */
export function sequence(...values: number[]): () => number {
  let index = 0
  return () => values[Math.min(index++, values.length - 1)]
}
