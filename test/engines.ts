/**
 * The two database engines every storage-touching suite runs against: libSQL (a temp file per database) and
 * the Postgres at TEST_DATABASE_URL (a fresh database per call). Where no Postgres answers, its half is skipped
 * with a loud notice — unless REQUIRE_POSTGRES=1 (CI), where that is a failing test instead.
 */
import { describe, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { randomBytes } from 'node:crypto'

export type EngineName = 'sqlite' | 'pg'
export type TestDatabase = { url: string; drop(): Promise<void> }
export type TestEngine = { name: EngineName; createDatabase(): Promise<TestDatabase> }

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function postgresAnswers(): Promise<boolean> {
  const client = postgres(POSTGRES_URL, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await client`select 1`
    return true
  } catch {
    return false
  } finally {
    await client.end({ timeout: 1 }).catch(() => {})
  }
}

const postgresAvailable = await postgresAnswers()
const postgresRequired = process.env.REQUIRE_POSTGRES === '1'
let noticePrinted = false

export const sqliteEngine: TestEngine = {
  name: 'sqlite',
  async createDatabase() {
    const folder = mkdtempSync(join(tmpdir(), 'tollgate-test-'))
    return {
      url: `file:${join(folder, 'test.db')}`,
      async drop() {
        rmSync(folder, { recursive: true, force: true })
      },
    }
  },
}

let adminClient: postgres.Sql | null = null
function admin(): postgres.Sql {
  adminClient ??= postgres(POSTGRES_URL, { max: 2, onnotice: () => {} })
  return adminClient
}

export const postgresEngine: TestEngine = {
  name: 'pg',
  async createDatabase() {
    const name = `tollgate_t_${randomBytes(6).toString('hex')}`
    await admin().unsafe(`create database ${name}`)
    const url = new URL(POSTGRES_URL)
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      async drop() {
        await admin().unsafe(`drop database if exists ${name} with (force)`)
      },
    }
  },
}

/**
 * Registers `body` once per engine, inside `describe('<title> [engine]')`. The Postgres half is skipped (with a
 * notice) when no server answers, and fails instead when REQUIRE_POSTGRES=1.
 */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void): void {
  describe(`${title} [sqlite]`, () => body(sqliteEngine))
  describePostgres(title, () => body(postgresEngine))
}

/** A block that only makes sense on Postgres (several instances on one database, LISTEN/NOTIFY …). */
export function describePostgres(title: string, body: () => void): void {
  if (postgresAvailable) {
    describe(`${title} [pg]`, body)
    return
  }
  if (postgresRequired) {
    test(`${title} [pg]: Postgres at ${POSTGRES_URL} is required (REQUIRE_POSTGRES=1) but does not answer`, () => {
      throw new Error(`Postgres at ${POSTGRES_URL} does not answer`)
    })
    return
  }
  if (!noticePrinted) {
    noticePrinted = true
    console.warn(
      `\n!!! Postgres at ${POSTGRES_URL} does not answer: the Postgres half of the suite is SKIPPED. ` +
        `Set TEST_DATABASE_URL or start Postgres; CI sets REQUIRE_POSTGRES=1 and fails instead.\n`,
    )
  }
  describe.skip(`${title} [pg] (no Postgres)`, body)
}
