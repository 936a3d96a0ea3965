/**
 * An in-process gateway for tests: a fresh database on the given engine, the real app, a manual clock by
 * default, and `call()` speaking HTTP through `app.handle`.
 */
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../src/app'
import { createAppContext, type AppContext } from '../src/app-context'
import { settingsFromObject } from '../src/config/load'
import type { AuditLogRow } from '../src/db/ports'
import type { DataPlaneOptions } from '../src/data-plane'
import { ManualClock, type Clock } from '../src/lib/clock'
import { createMemoryLogger, type Logger } from '../src/lib/logger'
import { openTestStore, type TestStore } from './database'
import type { TestEngine } from './engines'

export const MASTER_KEY = 'sk-master-0123456789abcdefghijklmnopqrstuv'

export type TestResponse = { status: number; body: any; text: string; headers: Headers }

export type CallOptions = {
  body?: unknown
  /** The credential sent as `Authorization: Bearer …`; null sends none. Defaults to the master key. */
  key?: string | null
  headers?: Record<string, string>
}

export type TestGateway = {
  readonly context: AppContext
  readonly app: App
  readonly store: TestStore
  readonly clock: Clock
  readonly log: Logger & { lines: Record<string, unknown>[] }
  call(method: string, path: string, options?: CallOptions): Promise<TestResponse>
  /** The audit rows of one object, newest first (optionally of one action). */
  audit(objectId: string, action?: string): Promise<AuditLogRow[]>
  /** How many audit rows there are: a refused change leaves the count as it was. */
  auditCount(): Promise<number>
  close(): Promise<void>
}

export type GatewayOptions = {
  /** config.yaml as an object; `general_settings.master_key` defaults to MASTER_KEY. */
  config?: Record<string, any>
  env?: Record<string, string>
  clock?: Clock
  /** Data-plane parts to use instead of the defaults (a memory usage sink to read, a short keep-alive …). */
  dataPlane?: DataPlaneOptions
}

export async function startGateway(engine: TestEngine, options: GatewayOptions = {}): Promise<TestGateway> {
  const clock = options.clock ?? new ManualClock()
  const store = await openTestStore(engine, clock instanceof ManualClock ? clock : new ManualClock())
  // Each gateway spools spend in its own temp folder (created on first use) unless the test names one.
  const spoolDir = join(tmpdir(), `tollgate-spool-${randomUUID()}`)
  const config = {
    ...options.config,
    general_settings: { master_key: MASTER_KEY, spend_spool_dir: spoolDir, ...options.config?.general_settings },
  }
  const settings = settingsFromObject(config, options.env ?? {})
  const log = createMemoryLogger()
  const context = await createAppContext({ settings, database: store.database, clock, log, dataPlane: options.dataPlane })
  const app = createApp(context)

  return {
    context,
    app,
    store,
    clock,
    log,
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers }
      const key = callOptions.key === undefined ? MASTER_KEY : callOptions.key
      if (key !== null) headers.authorization = `Bearer ${key}`
      let body: string | undefined
      if (callOptions.body !== undefined) {
        body = typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body)
        headers['content-type'] ??= 'application/json'
      }
      const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {}
      return { status: response.status, body: parsed, text, headers: response.headers }
    },
    async audit(objectId, action) {
      return (await store.repos.audit.list({ objectId, action }, { offset: 0, limit: 100 })).rows
    },
    async auditCount() {
      return (await store.repos.audit.list({}, { offset: 0, limit: 1 })).total
    },
    async close() {
      await context.lifecycle.stop()
      await store.close()
    },
  }
}
