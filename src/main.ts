/**
 * The composition root and the only file with side effects: read the command line and environment, load the
 * config, open and migrate the database, build the app, listen; SIGTERM/SIGINT stop it gracefully.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createApp } from './app'
import { createAppContext } from './app-context'
import { parseCommandLine, USAGE, UsageError } from './cli'
import { ConfigError, loadSettings } from './config/load'
import { openDatabase } from './db/open'
import { systemClock } from './lib/clock'
import { createLogger } from './lib/logger'
import { VERSION } from './version'

async function main(): Promise<number> {
  let command
  try {
    command = parseCommandLine(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`tollgate: ${error.message}\n\n${USAGE}\n`)
    return 2
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (command.kind === 'version') {
    process.stdout.write(`tollgate ${VERSION}\n`)
    return 0
  }

  const log = createLogger({ level: command.detailedDebug ? 'debug' : 'info' })
  const env = process.env as Record<string, string | undefined>
  const configPath = command.config ?? env.CONFIG_FILE_PATH ?? null
  if (configPath && !existsSync(configPath)) {
    process.stderr.write(`tollgate: config file not found: ${configPath}\n`)
    return 1
  }

  let settings
  try {
    settings = loadSettings({ yaml: configPath ? readFileSync(configPath, 'utf8') : null, env, source: configPath ?? 'config' })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`tollgate: ${error.message}\n`)
    return 1
  }
  for (const warning of settings.warnings) log.warn(warning)

  const general = settings.config.general_settings
  const database = await openDatabase(settings.databaseUrl, {
    poolSize: general.database_connection_pool_limit,
    connectTimeoutSeconds: general.database_connection_timeout,
  })
  const applied = await database.migrate()
  if (applied.length > 0) log.info('migrations applied', { migrations: applied, database: database.location })
  if (command.kind === 'migrate') {
    process.stdout.write(`migrations applied: ${applied.length === 0 ? 'none (up to date)' : applied.join(', ')}\n`)
    await database.close()
    return 0
  }

  const context = await createAppContext({
    settings,
    database,
    clock: systemClock,
    log,
    announceAdminKey: (key) =>
      process.stdout.write(
        `\nNo master key is configured, so Tollgate generated an admin key. It is shown this once and stored only as a hash:\n\n    ${key}\n\nSet general_settings.master_key or LITELLM_MASTER_KEY to use your own.\n\n`,
      ),
  })
  const app = createApp(context)
  const port = command.port ?? (env.PORT ? Number(env.PORT) : 4000)
  const hostname = command.host ?? '0.0.0.0'
  const server = Bun.serve({
    port,
    hostname,
    fetch: (request) => app.handle(request),
    maxRequestBodySize: Math.ceil(general.max_request_size_mb * 1024 * 1024) + 1024,
    // Proxied requests lift this per request (server.timeout(request, 0)) and streams send keep-alive
    // comments; idle keep-alive sockets are closed after this.
    idleTimeout: 120,
  })
  context.server.attach(server)
  await context.lifecycle.start()
  log.info('Tollgate listening', { url: `http://${hostname}:${server.port}`, database: database.location, version: VERSION })

  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      log.info('stopping', { signal })
      await server.stop()
      await context.lifecycle.stop()
      await database.close()
      resolve()
    }
    process.once('SIGTERM', () => void stop('SIGTERM'))
    process.once('SIGINT', () => void stop('SIGINT'))
  })
  return 0
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`tollgate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
