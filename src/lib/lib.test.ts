import { describe, expect, test } from 'bun:test'
import { addDuration, durationSeconds, nextWindowEnd, parseDuration } from './duration'
import { pythonFloat, pythonList } from './python-float'
import { isVirtualKeyFormat, maskKey, maskLast4, secretMatchesHash, secretsEqual, sha256Hex } from './secrets'
import { formatTimestamp, parseTimestamp, utcDay } from './time'
import { clientIdProblem, newAdminKey, newVirtualKey } from './ids'

describe('pythonFloat formats numbers as Python repr(float) does', () => {
  const vectors: Array<[number, string]> = [
    [1e-9, '1e-09'],
    [3.5e-6, '3.5e-06'],
    [5e-6, '5e-06'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [100, '100.0'],
    [10, '10.0'],
    [1e16, '1e+16'],
    [3.5e-6 + 1.5e-6, '4.9999999999999996e-06'],
    [9.699999999999992e-6, '9.699999999999992e-06'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [123456789012345.6, '123456789012345.6'],
    [1234567890123456.7, '1234567890123456.8'],
    [-2.5, '-2.5'],
    [1.5e300, '1.5e+300'],
    [0.00012, '0.00012'],
    [Infinity, 'inf'],
  ]
  for (const [value, expected] of vectors) test(`${expected}`, () => expect(pythonFloat(value)).toBe(expected))
  test('lists', () => expect(pythonList(['llama3', 'gpt-4o'])).toBe("['llama3', 'gpt-4o']"))
})

describe('durations follow the strict grammar and calendar months', () => {
  test('accepted and refused forms', () => {
    for (const ok of ['1s', '30s', '1m', '1h', '1d', '30d', '2w', '1mo', '12mo']) expect(parseDuration(ok)).not.toBeNull()
    for (const bad of ['1hr', '30', 'daily', '', 'none', '0d', '-1d', '1x', '01d', ' 1d', '1D', '1.5d']) expect(parseDuration(bad)).toBeNull()
  })
  test('T + duration; months clamp to the end of the month', () => {
    const t = new Date('2026-01-31T10:20:30.456Z')
    expect(addDuration(t, '1d').toISOString()).toBe('2026-02-01T10:20:30.456Z')
    expect(addDuration(t, '1mo').toISOString()).toBe('2026-02-28T10:20:30.456Z')
    expect(addDuration(new Date('2028-01-31T00:00:00Z'), '1mo').toISOString()).toBe('2028-02-29T00:00:00.000Z')
    expect(addDuration(t, '13mo').toISOString()).toBe('2027-02-28T10:20:30.456Z')
    expect(addDuration(t, '2w').toISOString()).toBe('2026-02-14T10:20:30.456Z')
    expect(durationSeconds('1h')).toBe(3600)
  })
  test('the next window end is always after now', () => {
    const start = new Date('2026-01-01T00:00:00Z')
    expect(nextWindowEnd(start, '1d', new Date('2026-01-05T12:00:00Z')).toISOString()).toBe('2026-01-06T00:00:00.000Z')
  })
})

describe('secrets', () => {
  test('virtual keys: format, hashing and masking', () => {
    const key = newVirtualKey()
    expect(key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/)
    expect(newAdminKey()).toMatch(/^sk-[A-Za-z0-9_-]{43}$/)
    expect(isVirtualKeyFormat(key)).toBe(true)
    expect(isVirtualKeyFormat("sk-' or 1=1 --")).toBe(false)
    expect(sha256Hex('sk-1234')).toHaveLength(64)
    expect(secretMatchesHash('sk-1234', sha256Hex('sk-1234'))).toBe(true)
    expect(secretMatchesHash('sk-1235', sha256Hex('sk-1234'))).toBe(false)
    expect(secretsEqual('a', 'a')).toBe(true)
    expect(secretsEqual('a', 'ab')).toBe(false)
    expect(maskKey('sk-abcdefwxyz')).toBe('sk-...wxyz')
    expect(maskLast4('abcdwxyz')).toBe('****wxyz')
  })
  test('client ids', () => {
    expect(clientIdProblem('team-1')).toBeNull()
    expect(clientIdProblem('')).not.toBeNull()
    expect(clientIdProblem(' x')).not.toBeNull()
    expect(clientIdProblem('a\nb')).not.toBeNull()
    expect(clientIdProblem('x'.repeat(257))).not.toBeNull()
  })
})

describe('timestamps', () => {
  test('six fractional digits and Z', () => {
    expect(formatTimestamp(new Date('2024-06-14T22:48:36.594Z'))).toBe('2024-06-14T22:48:36.594000Z')
    expect(formatTimestamp(null)).toBeNull()
  })
  test('ISO 8601 input with offsets; days', () => {
    expect(parseTimestamp('2024-06-14T22:48:36+02:00')!.toISOString()).toBe('2024-06-14T20:48:36.000Z')
    expect(parseTimestamp('2024-06-14')!.toISOString()).toBe('2024-06-14T00:00:00.000Z')
    expect(parseTimestamp('yesterday')).toBeNull()
    expect(utcDay(Date.UTC(2026, 0, 15, 23, 59))).toBe('2026-01-15')
  })
})
