/**
 * Counters in Redis, shared by every instance: one script per admission checks and counts all levels
 * atomically (pitfall 13: no local reads multiplied by the number of replicas). Windows are hashes of
 * `second → count` that expire two windows after their last write; parallel slots are leases in a sorted set
 * scored by their expiry, so a crashed instance's slots free themselves after `request timeout + 60 s`.
 */
import type { RedisClient } from 'bun'
import type { Clock } from '../../lib/clock'
import type { RedisConnection } from '../../redis/connection'
import { decide, type LevelState } from './decide'
import { isLimited, type LevelLimit } from './levels'
import { ADD_TOKENS_SCRIPT, ADMIT_SCRIPT, INCREMENT_FLOAT_SCRIPT, RELEASE_SCRIPT, SEED_FLOAT_SCRIPT } from './redis-scripts'
import type { Admission, CounterStore, FloatKey, SlotLease } from './store'
import { WINDOW_SECONDS, secondOf, type SecondCounts } from './window'

const PREFIX = 'tollgate:'
/** A window's counts are read for 60 s after their second; keep them a little longer. */
const COUNTER_TTL_SECONDS = WINDOW_SECONDS * 2

type ScriptState = [requests: number[], tokens: number[], inFlight: number]

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly clock: Clock,
  ) {}

  async admit(levels: readonly LevelLimit[], lease: SlotLease): Promise<Admission> {
    const limited = levels.filter(isLimited)
    const nowMs = this.clock.now()
    const now = secondOf(nowMs)
    if (limited.length === 0) return { decision: decide([], [], now), releaseSlots: async () => {} }
    const keys = limited.flatMap((level) => [levelKey(level, 'requests'), levelKey(level, 'tokens'), levelKey(level, 'slots')])
    const args = [now, nowMs, lease.id, lease.expiresAtMs, WINDOW_SECONDS, COUNTER_TTL_SECONDS, Math.max(1, lease.expiresAtMs - nowMs)]
    for (const level of limited) args.push(level.rpm ?? -1, level.tpm ?? -1, level.maxParallel ?? -1)
    const [admittedFlag, raw] = (await this.script(ADMIT_SCRIPT, keys, args.map(String))) as [number, ScriptState[]]
    const states: LevelState[] = raw.map(([requests, tokens, inFlight]) => ({ requests: pairs(requests), tokens: pairs(tokens), inFlight }))
    const decision = decide(limited, states, now)
    if (decision.admitted !== (admittedFlag === 1)) {
      // Both apply the same comparisons; a disagreement is a bug, never a reason to count differently.
      throw new Error('rate-limit script and decision disagree')
    }
    const slotKeys = limited.filter((level) => level.maxParallel !== null).map((level) => levelKey(level, 'slots'))
    let released = !decision.admitted || slotKeys.length === 0
    return {
      decision,
      releaseSlots: async () => {
        if (released) return
        released = true
        await this.script(RELEASE_SCRIPT, slotKeys, [lease.id])
      },
    }
  }

  async addTokens(levels: readonly LevelLimit[], tokens: number): Promise<void> {
    const keys = levels.filter((level) => level.tpm !== null).map((level) => levelKey(level, 'tokens'))
    if (keys.length === 0 || tokens <= 0) return
    await this.script(ADD_TOKENS_SCRIPT, keys, [String(secondOf(this.clock.now())), String(tokens), String(COUNTER_TTL_SECONDS)])
  }

  async getFloat(key: FloatKey): Promise<number | null> {
    const value = await this.connection.run((client) => client.get(floatKey(key)))
    return value === null ? null : Number(value)
  }

  async seedFloat(key: FloatKey, value: number, ttlSeconds?: number): Promise<number> {
    const ttl = ttlSeconds === undefined ? 0 : Math.max(1, Math.ceil(ttlSeconds))
    return Number(await this.script(SEED_FLOAT_SCRIPT, [floatKey(key)], [String(value), String(ttl)]))
  }

  async incrementFloat(key: FloatKey, amount: number): Promise<number | null> {
    const value = await this.script(INCREMENT_FLOAT_SCRIPT, [floatKey(key)], [String(amount)])
    return value === null ? null : Number(value)
  }

  async deleteFloats(scope: string, options: { prefix?: boolean } = {}): Promise<number> {
    const pattern = `${PREFIX}counter:${globEscape(scope)}${options.prefix ? '*' : ':*'}`
    let dropped = 0
    let cursor = '0'
    do {
      const [next, keys] = (await this.connection.run((client) => client.send('SCAN', [cursor, 'MATCH', pattern, 'COUNT', '500']))) as [string, string[]]
      cursor = String(next)
      if (keys.length > 0) dropped += Number(await this.connection.run((client) => client.send('DEL', keys)))
    } while (cursor !== '0')
    return dropped
  }

  private script(source: string, keys: string[], args: string[]): Promise<unknown> {
    return evalScript(this.connection, source, keys, args)
  }
}

/** EVALSHA, falling back to EVAL when Redis does not have the script yet (first use, or after a restart). */
export function evalScript(connection: RedisConnection, source: string, keys: string[], args: string[]): Promise<unknown> {
  const params = [String(keys.length), ...keys, ...args]
  return connection.run(async (client: RedisClient) => {
    try {
      return await client.send('EVALSHA', [sha1(source), ...params])
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error
      return client.send('EVAL', [source, ...params])
    }
  })
}

function levelKey(level: LevelLimit, part: 'requests' | 'tokens' | 'slots'): string {
  return `${PREFIX}rl:${level.level}:${level.id}:${part}`
}

/** The Redis key of a float counter (budget reservations' script reads committed spend from it). */
export function floatKey(key: FloatKey): string {
  return `${PREFIX}counter:${key.scope}:${key.window}`
}

/** A literal string inside a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[\\*?[\]]/g, (c) => `\\${c}`)
}

function pairs(flat: number[]): SecondCounts {
  const out: Array<[number, number]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([Number(flat[i]), Number(flat[i + 1])])
  return out
}

const hashes = new Map<string, string>()
function sha1(source: string): string {
  let hash = hashes.get(source)
  if (!hash) {
    hash = new Bun.CryptoHasher('sha1').update(source).digest('hex')
    hashes.set(source, hash)
  }
  return hash
}
