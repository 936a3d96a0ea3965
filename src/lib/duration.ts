/**
 * Budget windows and key lifetimes: the contract's strict duration grammar (`30s`, `1d`, `1mo`) and the one
 * rule for a window's end, `T + duration`, with calendar months clamped to the month's last day.
 */

const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d|w|mo)$/

export type DurationUnit = 's' | 'm' | 'h' | 'd' | 'w' | 'mo'
export type Duration = { readonly amount: number; readonly unit: DurationUnit }

const UNIT_MS: Record<Exclude<DurationUnit, 'mo'>, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

export function parseDuration(text: string): Duration | null {
  const match = DURATION_PATTERN.exec(text)
  if (!match) return null
  const amount = Number(match[1])
  if (!Number.isSafeInteger(amount)) return null
  return { amount, unit: match[2] as DurationUnit }
}

export function isDuration(text: string): boolean {
  return parseDuration(text) !== null
}

export function durationMessage(field: string, value: unknown): string {
  return `Invalid ${field} '${String(value)}': expected a positive integer followed by s, m, h, d, w or mo (e.g. "30s", "1d", "1mo")`
}

/** `start + duration`; months move the UTC calendar date and clamp the day (Jan 31 + 1mo = Feb 28/29). */
export function addDuration(start: Date, duration: Duration | string): Date {
  const parsed = typeof duration === 'string' ? parseDuration(duration) : duration
  if (!parsed) throw new Error(`not a duration: ${String(duration)}`)
  if (parsed.unit !== 'mo') return new Date(start.getTime() + parsed.amount * UNIT_MS[parsed.unit])

  const year = start.getUTCFullYear()
  const month = start.getUTCMonth() + parsed.amount
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  const day = Math.min(start.getUTCDate(), lastDay)
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      start.getUTCHours(),
      start.getUTCMinutes(),
      start.getUTCSeconds(),
      start.getUTCMilliseconds(),
    ),
  )
}

/** Approximate length in seconds (a month counts as 30 days); used only to compare durations with each other. */
export function durationSeconds(duration: Duration | string): number {
  const parsed = typeof duration === 'string' ? parseDuration(duration) : duration
  if (!parsed) throw new Error(`not a duration: ${String(duration)}`)
  if (parsed.unit === 'mo') return parsed.amount * 30 * 86_400
  return (parsed.amount * UNIT_MS[parsed.unit]) / 1000
}

/**
 * The first window end strictly after `now`, stepping from a window end that has passed. Used by resets so
 * that a gateway that was down for several windows lands on the current one instead of one in the past.
 */
export function nextWindowEnd(resetMoment: Date, duration: Duration | string, now: Date): Date {
  let end = addDuration(resetMoment, duration)
  while (end.getTime() <= now.getTime()) end = addDuration(end, duration)
  return end
}
