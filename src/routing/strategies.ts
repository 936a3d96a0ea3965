/**
 * Load balancing among the deployments that may take the next attempt (§6.8):
 *
 * - `simple-shuffle`: a weighted random pick. The weight is `litellm_params.weight` when any candidate sets one
 *   (candidates without one weigh 1); else `rpm` when every candidate sets it; else `tpm` when every candidate
 *   sets it; else all weigh the same.
 * - `least-busy`: the candidate with the fewest requests in flight on this instance (ties: a random one).
 */
import type { Deployment } from '../deployments/deployment'
import type { DeploymentSelector } from './router'
import { routingParams, type RoutingStrategy } from './settings'

/** A number in [0, 1), like Math.random (injectable for tests). */
export type Random = () => number

function weightsOf(candidates: readonly Deployment[]): number[] | null {
  const params = candidates.map(routingParams)
  if (params.some((p) => p.weight !== null)) return params.map((p) => p.weight ?? 1)
  if (params.every((p) => p.rpm !== null)) return params.map((p) => p.rpm!)
  if (params.every((p) => p.tpm !== null)) return params.map((p) => p.tpm!)
  return null
}

export function weightedPick<T>(items: readonly T[], weights: readonly number[], random: Random): T {
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  let point = random() * total
  for (const [index, item] of items.entries()) {
    point -= weights[index]
    if (point < 0) return item
  }
  return items[items.length - 1]
}

const uniformPick = <T>(items: readonly T[], random: Random): T => items[Math.min(items.length - 1, Math.floor(random() * items.length))]

export function simpleShuffle(random: Random): DeploymentSelector {
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]
      const weights = weightsOf(candidates)
      return weights ? weightedPick(candidates, weights, random) : uniformPick(candidates, random)
    },
  }
}

export function leastBusy(inFlight: (deployment: Deployment) => number, random: Random): DeploymentSelector {
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]
      const counts = candidates.map(inFlight)
      const fewest = Math.min(...counts)
      return uniformPick(
        candidates.filter((_, index) => counts[index] === fewest),
        random,
      )
    },
  }
}

export function selectorFor(strategy: RoutingStrategy, inFlight: (deployment: Deployment) => number, random: Random): DeploymentSelector {
  return strategy === 'least-busy' ? leastBusy(inFlight, random) : simpleShuffle(random)
}
