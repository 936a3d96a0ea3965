/**
 * Field schemas the management modules share. Signs of money and the duration grammar are semantic checks
 * (400, `validate.ts`), so they are plain numbers and strings here; shapes and integer limits are the schema's (422).
 */
import { z } from 'zod'

export const limit = z.int().nonnegative()
export const stringList = z.array(z.string())
export const jsonObject = z.record(z.string(), z.unknown())
export const stringMap = z.record(z.string(), z.string())
export const timestampText = z.iso.datetime({ offset: true })

/** A query-string boolean (`true`/`false`, as LiteLLM clients send them). */
export const queryBool = z.enum(['true', 'false', 'True', 'False']).transform((value) => value.toLowerCase() === 'true')
export const pageNumber = z.coerce.number().int().min(1)

export function totalPages(total: number, size: number): number {
  return Math.ceil(total / size)
}
