/**
 * The configured models, indexed once at boot: model groups (deployments sharing a `model_name`), wildcard
 * deployments (`openai/*`, the catch-all `*`), access groups (`model_info.access_groups`) and the router's
 * aliases (`router_settings.model_group_alias`). Pure lookups; no I/O.
 */
import type { Config } from '../config/schema'
import { toDeployment, wildcardCapture, type Deployment } from './deployment'

/** What a model name is served by. */
export type ModelTarget = {
  /** The name requests are accounted under: the configured `model_name`, or the concrete name a wildcard served. */
  readonly modelGroup: string
  readonly deployments: readonly Deployment[]
}

export type RouterAlias = { readonly alias: string; readonly target: string; readonly hidden: boolean }

export class ModelCatalog {
  readonly deployments: readonly Deployment[]
  private readonly groups = new Map<string, Deployment[]>()
  /** Wildcard groups, most specific pattern first (the catch-all `*` last). */
  private readonly wildcards: Array<{ pattern: string; deployments: Deployment[] }> = []
  private readonly accessGroups = new Map<string, string[]>()
  private readonly aliases = new Map<string, RouterAlias>()
  private readonly byIdMap = new Map<string, Deployment>()

  constructor(deployments: readonly Deployment[], routerAliases: readonly RouterAlias[] = []) {
    this.deployments = deployments
    const wildcardGroups = new Map<string, Deployment[]>()
    for (const deployment of deployments) {
      const target = deployment.isWildcard ? wildcardGroups : this.groups
      const list = target.get(deployment.modelName) ?? []
      list.push(deployment)
      target.set(deployment.modelName, list)
      if (!this.byIdMap.has(deployment.id)) this.byIdMap.set(deployment.id, deployment)
      if (deployment.isWildcard) continue
      for (const group of deployment.accessGroups) {
        const members = this.accessGroups.get(group) ?? []
        if (!members.includes(deployment.modelName)) members.push(deployment.modelName)
        this.accessGroups.set(group, members)
      }
    }
    const fixedLength = (pattern: string) => pattern.replaceAll('*', '').length
    for (const [pattern, list] of wildcardGroups) this.wildcards.push({ pattern, deployments: list })
    this.wildcards.sort((a, b) => fixedLength(b.pattern) - fixedLength(a.pattern))
    for (const alias of routerAliases) this.aliases.set(alias.alias, alias)
  }

  static fromConfig(config: Config): ModelCatalog {
    const deployments = config.model_list.map((entry, index) => toDeployment(entry, index))
    const aliases = Object.entries(config.router_settings.model_group_alias ?? {}).map(([alias, value]) =>
      typeof value === 'string' ? { alias, target: value, hidden: false } : { alias, target: value.model, hidden: value.hidden ?? false },
    )
    return new ModelCatalog(deployments, aliases)
  }

  /** Configured (non-wildcard) model names, in config order. */
  modelNames(): string[] {
    return [...this.groups.keys()]
  }

  /** Configured wildcard model names (`openai/*`, `*`). */
  wildcardNames(): string[] {
    return this.wildcards.map((w) => w.pattern)
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name)
  }

  /** The deployments serving `name`: its group, else the most specific wildcard deployment that fits it. */
  resolve(name: string): ModelTarget | null {
    const group = this.groups.get(name)
    if (group) return { modelGroup: name, deployments: group }
    for (const wildcard of this.wildcards) {
      if (wildcardCapture(wildcard.pattern, name) !== null) return { modelGroup: name, deployments: wildcard.deployments }
    }
    return null
  }

  /** Model names in an access group; undefined when no deployment declares that group. */
  accessGroupMembers(group: string): readonly string[] | undefined {
    return this.accessGroups.get(group)
  }

  /** Whether some deployment of the configured group `name` uses `provider`. */
  groupUsesProvider(name: string, provider: string): boolean {
    return this.groups.get(name)?.some((d) => d.provider === provider) ?? false
  }

  routerAlias(name: string): RouterAlias | undefined {
    return this.aliases.get(name)
  }

  routerAliases(): RouterAlias[] {
    return [...this.aliases.values()]
  }

  byId(id: string): Deployment | undefined {
    return this.byIdMap.get(id)
  }
}
