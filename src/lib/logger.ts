/**
 * One JSON object per line on stdout. Callers pass structured fields; secrets must already be masked or
 * hashed (`maskKey`, `sha256Hex`) before they reach a log call.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

export type LogSink = (line: string) => void

export function createLogger(options: { level?: LogLevel; sink?: LogSink } = {}): Logger {
  const minimum = LEVEL_RANK[options.level ?? 'info']
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`))
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_RANK[level] < minimum) return
    sink(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }))
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  }
}

/** A logger that keeps lines in memory, for tests that assert on what was (or was not) logged. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line)) })
  return Object.assign(logger, { lines })
}

export const silentLogger: Logger = createLogger({ sink: () => {} })
