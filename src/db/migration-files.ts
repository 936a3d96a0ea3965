/**
 * Reads drizzle-kit's output folder for one dialect. Imported as a Bun macro (`with { type: 'macro' }`), so it
 * runs at bundle time and the SQL text is inlined into the compiled binary: no migration files on disk at run time.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export type EmbeddedMigration = { tag: string; hash: string; statements: string[] }

export function readMigrationFolder(dialect: 'pg' | 'sqlite'): EmbeddedMigration[] {
  const folder = join(import.meta.dir, '..', '..', 'drizzle', dialect)
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[]
  }
  return journal.entries.map(({ tag }) => {
    const text = readFileSync(join(folder, `${tag}.sql`), 'utf8')
    return {
      tag,
      hash: createHash('sha256').update(text).digest('hex'),
      statements: text
        .split('--> statement-breakpoint')
        .map((statement) => statement.trim())
        .filter(Boolean),
    }
  })
}
