/**
 * The Lua run inside Redis. Each is atomic, so one round trip checks and counts every level for a request no
 * matter how many instances ask at once. Time is passed in (the caller's clock), never Redis TIME, so tests
 * move windows with a manual clock and all instances agree with their own notion of now.
 */

/**
 * KEYS: per level `requests`, `tokens`, `slots` (3 × n). ARGV: now second, now ms, lease id, lease expiry ms,
 * window seconds, counter TTL seconds, lease TTL ms, then per level rpm, tpm, max parallel (-1 = no limit).
 * Returns { admitted 0|1, per level { requests as flat second,count pairs, tokens the same, slots in use } }.
 * The comparisons are decide.ts's: refuse when requests >= rpm, tokens >= tpm, slots >= max parallel.
 */
export const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local now_ms = tonumber(ARGV[2])
local lease = ARGV[3]
local lease_expiry = tonumber(ARGV[4])
local oldest = now - tonumber(ARGV[5]) + 1
local counter_ttl = tonumber(ARGV[6])
local lease_ttl = tonumber(ARGV[7])
local levels = #KEYS / 3

local function window(key)
  local flat = redis.call('HGETALL', key)
  local pairs_out, total, stale = {}, 0, {}
  for i = 1, #flat, 2 do
    local second, count = tonumber(flat[i]), tonumber(flat[i + 1])
    if second < oldest then
      stale[#stale + 1] = flat[i]
    else
      pairs_out[#pairs_out + 1] = second
      pairs_out[#pairs_out + 1] = count
      if second <= now then total = total + count end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return pairs_out, total
end

local admitted = 1
local state = {}
for i = 0, levels - 1 do
  local rpm, tpm, parallel = tonumber(ARGV[8 + i * 3]), tonumber(ARGV[9 + i * 3]), tonumber(ARGV[10 + i * 3])
  local requests, tokens, in_flight = {}, {}, 0
  if rpm >= 0 then
    local total
    requests, total = window(KEYS[1 + i * 3])
    if total >= rpm then admitted = 0 end
  end
  if tpm >= 0 then
    local total
    tokens, total = window(KEYS[2 + i * 3])
    if total >= tpm then admitted = 0 end
  end
  if parallel >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 + i * 3], '-inf', now_ms)
    in_flight = redis.call('ZCARD', KEYS[3 + i * 3])
    if in_flight >= parallel then admitted = 0 end
  end
  state[#state + 1] = { requests, tokens, in_flight }
end

if admitted == 1 then
  for i = 0, levels - 1 do
    if tonumber(ARGV[8 + i * 3]) >= 0 then
      redis.call('HINCRBY', KEYS[1 + i * 3], now, 1)
      redis.call('EXPIRE', KEYS[1 + i * 3], counter_ttl)
    end
    if tonumber(ARGV[10 + i * 3]) >= 0 then
      redis.call('ZADD', KEYS[3 + i * 3], lease_expiry, lease)
      redis.call('PEXPIRE', KEYS[3 + i * 3], lease_ttl)
    end
  end
end
return { admitted, state }
`

/** KEYS: token counters of the levels with a tpm limit. ARGV: second, tokens, counter TTL seconds. */
export const ADD_TOKENS_SCRIPT = `
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, ARGV[1], ARGV[2])
  redis.call('EXPIRE', key, tonumber(ARGV[3]))
end
return 1
`

/** KEYS: slot sets the lease was added to. ARGV: lease id. */
export const RELEASE_SCRIPT = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
`

/**
 * KEYS[1]: a float counter. ARGV[1]: amount. The sum is done in Lua numbers (IEEE-754 doubles, like JavaScript
 * and the database) and stored with 17 significant digits, which round-trips exactly; INCRBYFLOAT would add in
 * long double and print a different last digit. Returns the new value, or nil when the counter is not seeded.
 */
export const INCREMENT_FLOAT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return false end
local value = string.format('%.17g', tonumber(current) + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], value, 'KEEPTTL')
return value
`

/** KEYS[1]: a float counter. ARGV: value, TTL seconds (0 = none). Sets it when absent; returns the value in force. */
export const SEED_FLOAT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then return current end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return ARGV[1]
`
