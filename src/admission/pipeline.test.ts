import { describe, expect, test } from 'bun:test'
import { adminPrincipal } from '../auth/principal'
import { rateLimited } from '../../test/admission-steps'
import { createAdmissionPipeline, type AdmissionRequest, type AdmissionStep } from './pipeline'
import type { UsageRecord } from '../usage/record'

const request = { requestId: 'r1', principal: adminPrincipal(), signal: new AbortController().signal } as unknown as AdmissionRequest
const record = { requestId: 'r1', status: 'success' } as unknown as UsageRecord

function recordingStep(name: string, order: number, log: string[], extra: Partial<AdmissionStep> = {}): AdmissionStep {
  return {
    name,
    order,
    admit: () => {
      log.push(`admit ${name}`)
      return { release: (r) => void log.push(`release ${name} ${r ? r.status : 'null'}`), headers: { [`x-${name}`]: '1' }, bodyOverrides: { [name]: true } }
    },
    ...extra,
  }
}

describe('the admission pipeline', () => {
  test('with no steps, admits and holds nothing', async () => {
    const admitted = await createAdmissionPipeline(() => {}).admit(request)
    expect(admitted.headers).toEqual({})
    expect(admitted.bodyOverrides).toEqual({})
    await admitted.release(record)
  })

  test('runs steps by order, merges their headers and body overrides, releases newest first, once', async () => {
    const log: string[] = []
    const pipeline = createAdmissionPipeline(() => {})
    pipeline.register(recordingStep('limits', 800, log))
    pipeline.register(recordingStep('budget', 700, log))
    const admitted = await pipeline.admit(request)
    expect(pipeline.steps().map((s) => s.name)).toEqual(['budget', 'limits'])
    expect(admitted.headers).toEqual({ 'x-budget': '1', 'x-limits': '1' })
    expect(admitted.bodyOverrides).toEqual({ budget: true, limits: true })
    await admitted.release(record)
    await admitted.release(record)
    expect(log).toEqual(['admit budget', 'admit limits', 'release limits success', 'release budget success'])
  })

  test('a refusal releases what the earlier steps hold, with no record, and reaches the caller', async () => {
    const log: string[] = []
    const pipeline = createAdmissionPipeline(() => {})
    pipeline.register(recordingStep('budget', 700, log))
    pipeline.register(rateLimited('limits', 800))
    pipeline.register(recordingStep('never', 900, log))
    const refusal = await pipeline.admit(request).catch((error) => error)
    expect(refusal.httpStatus).toBe(429)
    expect(log).toEqual(['admit budget', 'release budget null'])
  })

  test('a release that throws is reported and does not stop the others', async () => {
    const log: string[] = []
    const errors: string[] = []
    const pipeline = createAdmissionPipeline((step, error) => errors.push(`${step}: ${(error as Error).message}`))
    pipeline.register(recordingStep('first', 1, log))
    pipeline.register({ name: 'broken', order: 2, admit: () => ({ release: () => Promise.reject(new Error('lost')) }) })
    await (await pipeline.admit(request)).release(record)
    expect(errors).toEqual(['broken: lost'])
    expect(log).toEqual(['admit first', 'release first success'])
  })
})
