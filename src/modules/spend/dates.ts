/**
 * Dates in spend queries: `YYYY-MM-DD` UTC days (inclusive ranges), or moments for the log routes. A malformed
 * or inverted range is a 400 naming the parameter.
 */
import { badRequest } from '../../http/errors'
import { utcDay } from '../../lib/time'

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/
const MOMENT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?(Z|[+-]\d{2}:?\d{2})?$/
export const DAY_MS = 86_400_000

/** A calendar day `YYYY-MM-DD`, checked (2024-02-30 is not one). */
export function parseDay(param: string, value: string): string {
  const match = DAY.exec(value)
  if (match) {
    const [year, month, day] = match.slice(1).map(Number)
    const date = new Date(Date.UTC(year, month - 1, day))
    if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) return value
  }
  throw badRequest(`Invalid ${param} '${value}': expected a date as YYYY-MM-DD`, param)
}

/** A moment: a day (its midnight, UTC), or a date and time; without an offset the time is UTC. */
export function parseMoment(param: string, value: string): Date {
  const match = MOMENT.exec(value)
  if (match) {
    parseDay(param, match[1])
    const date = new Date(`${match[1]}T${match[2] ?? '00:00'}${match[3] ?? 'Z'}`)
    if (!Number.isNaN(date.getTime())) return date
  }
  throw badRequest(`Invalid ${param} '${value}': expected a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM:SS, UTC unless an offset is given)`, param)
}

export type DayRange = { from: string; to: string }

/**
 * `start_date`/`end_date` as an inclusive range of days. `required`: both must be given (LiteLLM's message);
 * otherwise both or neither.
 */
export function dayRange(start: string | undefined, end: string | undefined, required: boolean): DayRange | null {
  if (start === undefined && end === undefined && !required) return null
  if (start === undefined || end === undefined) {
    throw badRequest('Please provide start_date and end_date', start === undefined ? 'start_date' : 'end_date')
  }
  const from = parseDay('start_date', start)
  const to = parseDay('end_date', end)
  if (from > to) throw badRequest(`Invalid date range: start_date ${from} is after end_date ${to}`, 'start_date')
  return { from, to }
}

/** The moments a day range covers: [first midnight, the midnight after the last day). */
export function rangeBounds(range: DayRange): { start: Date; end: Date } {
  return { start: new Date(`${range.from}T00:00:00Z`), end: new Date(Date.parse(`${range.to}T00:00:00Z`) + DAY_MS) }
}

/** Every day of a range, in order (zero-filled reports). */
export function daysOf(range: DayRange): string[] {
  const days: string[] = []
  for (let at = Date.parse(`${range.from}T00:00:00Z`); at <= Date.parse(`${range.to}T00:00:00Z`); at += DAY_MS) days.push(utcDay(at))
  return days
}

/** The trailing 30 days that `/global/spend` and the "last 30 days" reports cover, ending today. */
export function last30Days(now: number): DayRange {
  return { from: utcDay(now - 30 * DAY_MS), to: utcDay(now) }
}
