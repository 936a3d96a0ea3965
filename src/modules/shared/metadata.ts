/**
 * The `metadata` column of teams and keys after a create or an update. `metadata` replaces the stored map
 * (absent = keep it, null = empty); then `tags` and fields kept in metadata overlay it, an explicit null removing
 * the entry. Returns undefined when the request touches none of them.
 */
export type Json = Record<string, unknown>

export function composeMetadata(current: Json, metadata: Json | null | undefined, overlay: Record<string, unknown>): Json | undefined {
  const entries = Object.entries(overlay).filter(([, value]) => value !== undefined)
  if (metadata === undefined && entries.length === 0) return undefined
  const next: Json = { ...(metadata === undefined ? current : (metadata ?? {})) }
  for (const [name, value] of entries) {
    if (value === null) delete next[name]
    else next[name] = value
  }
  return next
}
