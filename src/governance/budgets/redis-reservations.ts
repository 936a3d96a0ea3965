/**
 * Strict-mode reservations shared by every instance through Redis: one script reads every capped level's
 * committed counter and live reservations, decides exactly as `decideStrict` does, and reserves at every level
 * or nowhere. A reservation is a field of a per-scope hash (`amount|expires_at_ms`); one whose instance
 * crashed expires after `request timeout + 60 s` and is then settled into the committed counter at its
 * reserved amount. While Redis is unreachable, reservations fall back to this process.
 */
import type { RedisConnection } from '../../redis/connection'
import { RedisOperationError } from '../../redis/connection'
import { evalScript, floatKey } from '../rate-limits/redis-store'
import type { CommittedSpend } from './committed'
import type { CappedState } from './decide'
import { scopeOf, windowIdOf } from './levels'
import type { LocalReservations, ReservationRequest, Reservations, Reserved } from './reservations'

/**
 * KEYS: per level i, its committed counter then its reservations hash. ARGV: now_ms, id, expires_at_ms,
 * prompt cost, output price, max_out, hash TTL seconds, then each level's cap. Returns
 * {'unseeded', i} | {'refuse'|'wait', i, committed_i} | {'reserve', amount, capped_tokens or -1}.
 */
export const RESERVE_SCRIPT = `
local n = #KEYS / 2
local now = tonumber(ARGV[1])
local prompt, outp, maxOut = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local committed, held, caps = {}, {}, {}
local fmt = function(x) return string.format('%.17g', x) end
for i = 1, n do
  local ck, hk = KEYS[2 * i - 1], KEYS[2 * i]
  local c = redis.call('GET', ck)
  if not c then return {'unseeded', i} end
  c = tonumber(c)
  local sum = 0
  local entries = redis.call('HGETALL', hk)
  for j = 1, #entries, 2 do
    local sep = string.find(entries[j + 1], '|', 1, true)
    local amount = tonumber(string.sub(entries[j + 1], 1, sep - 1))
    if tonumber(string.sub(entries[j + 1], sep + 1)) <= now then
      redis.call('HDEL', hk, entries[j])
      c = c + amount
      redis.call('SET', ck, fmt(c), 'KEEPTTL')
    else
      sum = sum + amount
    end
  end
  committed[i], held[i], caps[i] = c, sum, tonumber(ARGV[7 + i])
end
local function fits(i, amount) return committed[i] + held[i] + amount <= caps[i] end
local function fitsAll(amount)
  for i = 1, n do if not fits(i, amount) then return false end end
  return true
end
for i = 1, n do if committed[i] >= caps[i] then return {'refuse', i, fmt(committed[i])} end end
local full = prompt + maxOut * outp
local misfit, busy = nil, nil
for i = 1, n do
  if not fits(i, full) then
    misfit = misfit or i
    if held[i] > 0 and not busy then busy = i end
  end
end
local amount, capped = full, -1
if misfit then
  if busy then return {'wait', busy, fmt(committed[busy])} end
  local tokens = 0
  if outp <= 0 then
    if fitsAll(prompt) then tokens = maxOut end
  else
    local room = math.huge
    for i = 1, n do room = math.min(room, caps[i] - committed[i] - held[i]) end
    tokens = math.min(maxOut, math.floor((room - prompt) / outp))
    while tokens >= 1 and not fitsAll(prompt + tokens * outp) do tokens = tokens - 1 end
  end
  if tokens < 1 then return {'refuse', misfit, fmt(committed[misfit])} end
  amount, capped = prompt + tokens * outp, tokens
end
local value = fmt(amount) .. '|' .. ARGV[3]
for i = 1, n do
  redis.call('HSET', KEYS[2 * i], ARGV[2], value)
  redis.call('EXPIRE', KEYS[2 * i], tonumber(ARGV[7]))
end
return {'reserve', fmt(amount), capped}
`

/** KEYS: reservations hashes. ARGV[1]: the reservation id. */
export const RELEASE_RESERVATION_SCRIPT = `
for _, key in ipairs(KEYS) do redis.call('HDEL', key, ARGV[1]) end
return 1
`

const holdsKey = (scope: string) => `tollgate:budget-reservations:${scope}`
/** Seeding a missing counter and trying again; a counter expiring in between this often is not expected. */
const ATTEMPTS = 3

type ScriptResult = [kind: 'unseeded' | 'refuse' | 'wait' | 'reserve', a: number | string, b?: number | string]

export class RedisReservations implements Reservations {
  readonly shared = true

  constructor(
    private readonly connection: RedisConnection,
    private readonly committed: Pick<CommittedSpend, 'read'>,
    private readonly local: LocalReservations,
    private readonly holdTtlSeconds: number,
  ) {}

  async reserve(request: ReservationRequest): Promise<Reserved> {
    if (!this.connection.up) return this.local.reserve(request)
    try {
      return await this.reserveShared(request)
    } catch (error) {
      if (!(error instanceof RedisOperationError)) throw error
      return this.local.reserve(request)
    }
  }

  private async reserveShared(request: ReservationRequest): Promise<Reserved> {
    const { levels, worst } = request
    const keys = levels.flatMap((level) => [floatKey({ scope: scopeOf(level.source), window: windowIdOf(level.window) }), holdsKey(scopeOf(level.source))])
    const args = [Date.now(), request.id, request.expiresAtMs, worst.prompt, worst.outputPrice, worst.maxOut, this.holdTtlSeconds, ...levels.map((l) => l.maxBudget)]
    for (let attempt = 1; ; attempt++) {
      const [kind, a, b] = (await evalScript(this.connection, RESERVE_SCRIPT, keys, args.map(String))) as ScriptResult
      if (kind === 'unseeded') {
        if (attempt >= ATTEMPTS) throw new Error('budget counter expired while reserving')
        await this.committed.read(levels[Number(a) - 1])
        continue
      }
      if (kind !== 'reserve') {
        const state: CappedState = { level: levels[Number(a) - 1], committed: Number(b), held: 0 }
        return { kind, state, release: async () => {} }
      }
      const holdKeys = keys.filter((_, i) => i % 2 === 1)
      let released = false
      return {
        kind,
        amount: Number(a),
        cappedMaxTokens: Number(b) >= 1 ? Number(b) : null,
        release: async () => {
          if (released) return
          released = true
          // An unreachable Redis lets the reservation expire on its own (and count at its reserved amount).
          await evalScript(this.connection, RELEASE_RESERVATION_SCRIPT, holdKeys, [request.id]).catch(() => {})
        },
      }
    }
  }
}
