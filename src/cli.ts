/**
 * The command line, LiteLLM-compatible where LiteLLM has the same flag:
 * `tollgate [--config FILE] [--port N] [--host H] [--detailed_debug]`, `tollgate migrate`, `--version`, `--help`.
 */
import { parseArgs } from 'node:util'

export type Command =
  | { kind: 'serve' | 'migrate'; config: string | null; port: number | null; host: string | null; detailedDebug: boolean }
  | { kind: 'help' }
  | { kind: 'version' }

export const USAGE = `Usage: tollgate [options]
       tollgate migrate [--config FILE]

An LLM gateway with a LiteLLM-compatible management API and an OpenAI-compatible proxy.

Options:
  --config FILE      config.yaml in LiteLLM's format (default: $CONFIG_FILE_PATH, else none)
  --port N           port to listen on (default: $PORT, else 4000)
  --host H           address to bind (default: 0.0.0.0)
  --detailed_debug   log debug lines
  --version          print the version and exit
  --help             print this help and exit

Commands:
  migrate            apply database migrations and exit

Environment: DATABASE_URL (default: file tollgate.db in the working folder), LITELLM_MASTER_KEY,
REDIS_URL or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD, JWT_PUBLIC_KEY_URL, JWT_AUDIENCE, JWT_ISSUER.`

export class UsageError extends Error {}

export function parseCommandLine(argv: string[]): Command {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        detailed_debug: { type: 'boolean' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'migrate')) {
    throw new UsageError(`unknown command: ${positionals.join(' ')}`)
  }
  let port: number | null = null
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: not a port number: ${values.port}`)
  }
  return {
    kind: positionals[0] === 'migrate' ? 'migrate' : 'serve',
    config: values.config ?? null,
    port,
    host: values.host ?? null,
    detailedDebug: values.detailed_debug ?? false,
  }
}
