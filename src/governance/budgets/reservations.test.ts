import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { redisServerAvailable, startPrivateRedis, type PrivateRedis } from '../../../test/redis-server'
import { ManualClock } from '../../lib/clock'
import { silentLogger } from '../../lib/logger'
import { RedisConnection } from '../../redis/connection'
import { MemoryCounterStore } from '../rate-limits/memory-store'
import { RedisCounterStore } from '../rate-limits/redis-store'
import type { FloatCounters } from '../rate-limits/store'
import { CommittedSpend } from './committed'
import type { CappedLevel, Reservations, ReservationRequest } from './reservations'
import { LocalReservations } from './reservations'
import { RedisReservations } from './redis-reservations'

const team = (id: string, maxBudget: number): CappedLevel => ({
  level: 'team',
  id,
  maxBudget,
  softBudget: null,
  source: { kind: 'team', id },
  window: null,
  version: 1,
  prefix: '',
})
const WORST = { prompt: 3e-6, outputPrice: 1e-7, maxOut: 4096 }
const request = (id: string, levels: CappedLevel[], expiresAtMs = Date.now() + 60_000): ReservationRequest => ({ id, levels, worst: WORST, expiresAtMs })

function committedOn(counters: FloatCounters, stored: Record<string, number> = {}) {
  return new CommittedSpend({
    counters,
    spend: { pendingSpend: () => 0, settlingGeneration: () => 0 },
    stored: async (source) => stored[source.id] ?? 0,
    clock: new ManualClock(),
    mode: 'shared',
  })
}

/** The same decisions whichever store reserves (the script mirrors `decideStrict`). */
function reservationScenarios(name: string, open: () => Promise<{ reservations: Reservations; counters: FloatCounters }>) {
  describe(`strict reservations (${name})`, () => {
    test('capped to fit with nothing outstanding; the next waits; a release lets it through; over the cap is refused', async () => {
      const { reservations } = await open()
      const level = team(`t-${name}-1`, 3.5e-5)
      const first = await reservations.reserve(request('r1', [level]))
      expect(first).toMatchObject({ kind: 'reserve', cappedMaxTokens: 320 })
      const second = await reservations.reserve(request('r2', [level]))
      expect(second).toMatchObject({ kind: 'wait', state: { level: { id: level.id } } })
      await first.release()
      expect(await reservations.reserve(request('r3', [level]))).toMatchObject({ kind: 'reserve', cappedMaxTokens: 320 })
      const full = team(`t-${name}-2`, 1)
      expect(await reservations.reserve(request('r4', [full]))).toMatchObject({ kind: 'reserve', cappedMaxTokens: null, amount: WORST.prompt + 4096 * 1e-7 })
    })

    test('reservations at several levels are all-or-nothing: the tighter level caps the output everywhere', async () => {
      const { reservations } = await open()
      const loose = team(`t-${name}-loose`, 1)
      const tight = team(`t-${name}-tight`, 1.3e-5)
      const reserved = await reservations.reserve(request('m1', [loose, tight]))
      expect(reserved.kind).toBe('reserve')
      if (reserved.kind !== 'reserve') return
      expect(reserved.cappedMaxTokens === 99 || reserved.cappedMaxTokens === 100).toBe(true)
      // The loose level holds the same amount: a worst case of ~0.9996 more no longer fits there.
      expect(await reservations.reserve({ ...request('m2', [loose]), worst: { prompt: 0.99999, outputPrice: 0, maxOut: 1 } })).toMatchObject({ kind: 'wait' })
    })
  })
}

reservationScenarios('in process', async () => {
  const counters = new MemoryCounterStore(new ManualClock())
  return { counters, reservations: new LocalReservations(committedOn(counters)) }
})

if (redisServerAvailable) {
  let redis: PrivateRedis
  const connections: RedisConnection[] = []
  beforeAll(async () => {
    redis = await startPrivateRedis()
  })
  afterAll(async () => {
    for (const connection of connections) await connection.stop()
    await redis.close()
  })
  const openRedis = async () => {
    const connection = new RedisConnection({ url: redis.url, log: silentLogger, errors: { inc() {} }, role: 'counters', whileDown: 'local' })
    await connection.start()
    connections.push(connection)
    const counters = new RedisCounterStore(connection, new ManualClock())
    const committed = committedOn(counters)
    return { counters, reservations: new RedisReservations(connection, committed, new LocalReservations(committed), 600) }
  }
  reservationScenarios('Redis', openRedis)

  test("a crashed instance's reservation expires after its TTL and then counts at its reserved amount", async () => {
    const { reservations, counters } = await openRedis()
    const level = team('t-orphan', 3.5e-5)
    const orphan = await reservations.reserve(request('orphan', [level], Date.now() + 50))
    expect(orphan.kind).toBe('reserve')
    if (orphan.kind !== 'reserve') return
    // Never released (its instance is gone): the level waits while it lives…
    expect((await reservations.reserve(request('next', [level]))).kind).toBe('wait')
    await Bun.sleep(80)
    // …and once expired, the next admission settles it into committed spend at its reserved amount.
    const after = await reservations.reserve(request('after', [level]))
    expect(await counters.getFloat({ scope: 'team:t-orphan', window: 'lifetime' })).toBe(orphan.amount)
    expect(after).toMatchObject({ kind: 'refuse', state: { committed: orphan.amount } })
  })
}
