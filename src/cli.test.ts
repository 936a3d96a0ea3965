import { expect, test } from 'bun:test'
import { parseCommandLine, UsageError } from './cli'

test('the command line: serve, migrate, version, help, and mistakes', () => {
  expect(parseCommandLine([])).toEqual({ kind: 'serve', config: null, port: null, host: null, detailedDebug: false })
  expect(parseCommandLine(['--config', 'c.yaml', '--port', '8080', '--host', '127.0.0.1', '--detailed_debug'])).toEqual({
    kind: 'serve',
    config: 'c.yaml',
    port: 8080,
    host: '127.0.0.1',
    detailedDebug: true,
  })
  expect(parseCommandLine(['migrate', '--config', 'c.yaml']).kind).toBe('migrate')
  expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' })
  expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' })
  expect(() => parseCommandLine(['--port', 'x'])).toThrow(UsageError)
  expect(() => parseCommandLine(['--nope'])).toThrow(UsageError)
  expect(() => parseCommandLine(['serve'])).toThrow(UsageError)
})
