/** `2024-06-14T22:48:36.594000Z`: UTC, six fractional digits, as LiteLLM's responses carry timestamps. */
export function formatTimestamp(value: Date | null | undefined): string | null {
  if (!value) return null
  return value.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** Parses any ISO 8601 timestamp with an offset (or `Z`); returns null when it is not one. */
export function parseTimestamp(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return null
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text)
  return Number.isNaN(date.getTime()) ? null : date
}

/** `YYYY-MM-DD` of a moment, in UTC. */
export function utcDay(value: Date | number): string {
  return new Date(value).toISOString().slice(0, 10)
}
