import type { Settings } from '../../config/load'

/** The public model names of `model_list` (one per model group), in config order. */
export function configuredModelNames(settings: Settings): string[] {
  return [...new Set(settings.config.model_list.map((deployment) => deployment.model_name))]
}
