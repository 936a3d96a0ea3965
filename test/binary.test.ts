/**
 * dist/tollgate as an operator runs it: copied alone into an empty folder, no node_modules, no config.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { buildBinary, emptyFolder, runBinary, startBinary, type RunningBinary } from './binary'
import { describePostgres, postgresEngine } from './engines'
import { VERSION } from '../src/version'
import pgMigrations from '../drizzle/pg/meta/_journal.json'

let binary: string
beforeAll(async () => {
  binary = await buildBinary()
  console.log(`binary size: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MiB`)
}, 120_000)

describe('the compiled binary', () => {
  test('--version and --help', async () => {
    const version = await runBinary(binary, { cwd: emptyFolder(), args: ['--version'] })
    expect(version.stdout.trim()).toBe(`tollgate ${VERSION}`)
    const help = await runBinary(binary, { cwd: emptyFolder(), args: ['--help'] })
    expect(help.stdout).toContain('Usage: tollgate')
    expect(help.stdout).toContain('(default: $PORT, else 4000)')
    const bad = await runBinary(binary, { cwd: emptyFolder(), args: ['--bogus'] })
    expect(bad.code).toBe(2)
  })

  test('starts with no arguments in an empty folder: creates tollgate.db, answers health, refuses admin routes, prints a generated admin key once', async () => {
    const folder = emptyFolder()
    // A stray .env and bunfig.toml in the folder must not be picked up.
    writeFileSync(join(folder, '.env'), 'DATABASE_URL=postgres://nowhere.invalid:1/x\nPORT=1\n')
    writeFileSync(join(folder, 'bunfig.toml'), 'preload = ["./missing.ts"]\n')
    let running: RunningBinary | null = null
    try {
      // No arguments; PORT=0 only so parallel runs never collide on 4000 (the default is checked below).
      running = await startBinary(binary, { cwd: folder, env: { PORT: '0' } })
      console.log(`time to ready (libSQL, first start): ${running.readyMs.toFixed(0)} ms`)
      expect(existsSync(join(folder, 'tollgate.db'))).toBe(true)
      const alive = await fetch(`${running.url}/health/liveliness`)
      expect(await alive.json()).toBe("I'm alive!")
      const refused = await fetch(`${running.url}/budget/list`)
      expect(refused.status).toBe(401)
      expect(await refused.json()).toEqual({ error: { message: 'No api key passed in.', type: 'auth_error', param: null, code: 401 } })
      const key = /\n {4}(sk-[A-Za-z0-9_-]{43})\n/.exec(running.output())![1]
      const allowed = await fetch(`${running.url}/budget/list`, { headers: { authorization: `Bearer ${key}` } })
      expect(allowed.status).toBe(200)
      expect(await running.stop()).toBe(0)
      running = await startBinary(binary, { cwd: folder, args: ['--port', '0'] })
      expect(running.output()).not.toContain('generated an admin key')
      expect((await fetch(`${running.url}/budget/list`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    } finally {
      await running?.stop()
    }
  }, 30_000)

  test('an invalid config stops start-up with every bad key named', async () => {
    const folder = emptyFolder()
    writeFileSync(join(folder, 'config.yaml'), 'model_list: 3\ngeneral_settings:\n  master_key: 1234\n')
    const result = await runBinary(binary, { cwd: folder, args: ['--config', 'config.yaml', '--port', '0'] })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('model_list')
    expect(result.stderr).toContain('general_settings.master_key')
    expect(existsSync(join(folder, 'tollgate.db'))).toBe(false)
    const missing = await runBinary(binary, { cwd: folder, args: ['--config', 'nope.yaml'] })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('config file not found: nope.yaml')
  })

  test('migrate applies migrations and exits', async () => {
    const folder = emptyFolder()
    const first = await runBinary(binary, { cwd: folder, args: ['migrate'] })
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('0000_init')
    const second = await runBinary(binary, { cwd: folder, args: ['migrate'] })
    expect(second.stdout).toContain('none (up to date)')
  })
})

// One embedded libSQL file serves exactly one instance; several instances share Postgres.
describePostgres('the compiled binary on Postgres', () => {
  test('two binaries started at the same moment on one fresh database both come up', async () => {
    const database = await postgresEngine.createDatabase()
    const env = { DATABASE_URL: database.url, LITELLM_MASTER_KEY: 'sk-binary-test-master-key-0123456789' }
    const [a, b] = await Promise.all([
      startBinary(binary, { cwd: emptyFolder(), args: ['--port', '0'], env }),
      startBinary(binary, { cwd: emptyFolder(), args: ['--port', '0'], env }),
    ])
    try {
      console.log(`time to ready (Postgres, concurrent first start): ${a.readyMs.toFixed(0)} / ${b.readyMs.toFixed(0)} ms`)
      for (const running of [a, b]) {
        const ready = await fetch(`${running.url}/health/readiness`)
        expect(((await ready.json()) as any).db).toBe('connected')
      }
      const client = postgres(database.url, { max: 1 })
      const [{ count }] = await client`select count(*)::int as count from tollgate_migrations`
      await client.end()
      // Each embedded migration applied once, although both processes migrated at the same moment.
      expect(count).toBe(pgMigrations.entries.length)
    } finally {
      await Promise.all([a.stop(), b.stop()])
      await database.drop()
    }
  }, 30_000)
})
