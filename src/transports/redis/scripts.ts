/**
 * The Lua scripts the Redis adapter runs. Each is one atomic step that kombu
 * performs with several commands (or a WATCH transaction); the keys and values
 * they write are exactly kombu's.
 *
 * @module
 */

/**
 * Pops up to `ARGV[1]` envelopes from the queue lists, in the given order,
 * and records each well-formed one in `unacked` / `unacked_index` in the same
 * atomic step, so no popped message can be lost between the pop and the
 * bookkeeping (kombu's BRPOP-then-MULTI has that window).
 *
 * KEYS: `unacked`, `unacked_index`, then pairs of (queue list, its dead list).
 * ARGV: max count, score (unix seconds), `"1"` to record in `unacked`, the
 * key of a set the recorded tags are also added to (the consumer's own, see
 * `UnackedLedger.owner`; empty for none), then delivery tags to ack first
 * (as `ACK_TAGS`, the owner set included), so a consumer's acks ride with
 * its next fetch.
 * Returns `[[pairIndex (1-based), raw, deliveryTag, malformedReason], …]`; a
 * malformed element (reason non-empty) was moved to the dead list instead.
 */
export const POP_AND_RECORD = `
local out = {}
local want = tonumber(ARGV[1])
local record = ARGV[3] == '1'
if #ARGV > 4 then
  local acks = {unpack(ARGV, 5)}
  redis.call('ZREM', KEYS[2], unpack(acks))
  redis.call('HDEL', KEYS[1], unpack(acks))
  if ARGV[4] ~= '' then redis.call('SREM', ARGV[4], unpack(acks)) end
end
for i = 3, #KEYS, 2 do
  while want > 0 do
    local raw = redis.call('RPOP', KEYS[i])
    if not raw then break end
    want = want - 1
    local ok, env = pcall(cjson.decode, raw)
    local reason = ''
    local tag, ex, rk
    if not ok then
      -- cjson's reason, such as 'Found too many nested data structures (1001)'
      reason = 'the element is not a JSON object (' .. tostring(env) .. ')'
    elseif type(env) ~= 'table' then
      reason = 'the element is not a JSON object'
    elseif type(env['properties']) ~= 'table' then
      reason = 'it has no "properties"'
    else
      local p = env['properties']
      tag = p['delivery_tag']
      local di = p['delivery_info']
      if type(tag) ~= 'string' or tag == '' then
        reason = 'it has no "properties.delivery_tag"'
      elseif type(di) ~= 'table' or type(di['exchange']) ~= 'string'
          or type(di['routing_key']) ~= 'string' then
        reason = 'it has no "properties.delivery_info" with "exchange" and "routing_key"'
      else
        ex = di['exchange']
        rk = di['routing_key']
      end
    end
    if reason ~= '' then
      redis.call('LPUSH', KEYS[i + 1], raw)
      out[#out + 1] = {(i - 1) / 2, raw, '', reason}
    else
      if record then
        redis.call('ZADD', KEYS[2], ARGV[2], tag)
        redis.call('HSET', KEYS[1], tag,
          '[' .. raw .. ', ' .. cjson.encode(ex) .. ', ' .. cjson.encode(rk) .. ']')
        if ARGV[4] and ARGV[4] ~= '' then redis.call('SADD', ARGV[4], tag) end
      end
      out[#out + 1] = {(i - 1) / 2, raw, tag, ''}
    end
  end
  if want <= 0 then break end
end
return out
`;

/**
 * Acks delivery tags: removes them from `unacked_index` and `unacked` (and
 * from the consumer's owner set, when given) in one atomic step: what kombu
 * does with a `ZREM` + `HDEL` pipeline, as one command instead of a
 * MULTI/EXEC of three or four.
 *
 * KEYS: `unacked`, `unacked_index`, and optionally the owner set.
 * ARGV: the tags (at most a few thousand: they are unpacked as arguments).
 */
export const ACK_TAGS = `
redis.call('ZREM', KEYS[2], unpack(ARGV))
redis.call('HDEL', KEYS[1], unpack(ARGV))
if KEYS[3] then redis.call('SREM', KEYS[3], unpack(ARGV)) end
return 1
`;

/**
 * Puts one message back on its queue lists and removes it from the unacked
 * bookkeeping, atomically. With `ARGV[4] == "1"` nothing is pushed unless the
 * tag was still in `unacked` (someone else restored or acked it already),
 * which is what kombu's `WATCH unacked` transaction guarantees.
 *
 * KEYS: `unacked`, `unacked_index`, then the lists to push to.
 * ARGV: delivery tag, envelope text, `"left"` (LPUSH) or `"right"` (RPUSH), `"1"`/`"0"`.
 * Returns 1 when pushed, 0 when not.
 */
export const RESTORE_TAG = `
local present = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if present == 0 and ARGV[4] == '1' then return 0 end
for i = 3, #KEYS do
  if ARGV[3] == 'left' then
    redis.call('LPUSH', KEYS[i], ARGV[2])
  else
    redis.call('RPUSH', KEYS[i], ARGV[2])
  end
end
return 1
`;

/** Releases a lock only when it still holds our token (redis-py's `Lock.release`). */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Stores a result document as Celery 5.2.6's Redis backend does, in one
 * atomic step and one round trip: unless the stored document's status is
 * SUCCESS (Celery's `_store_result` reads it first and keeps a SUCCESS),
 * `SETEX key expires doc` (`SET` when `ARGV[2]` is 0) and `PUBLISH key doc`.
 *
 * An identical document arriving again (a resent command whose first run
 * stored it) is published again and not stored.
 *
 * KEYS: the result key. ARGV: the document, the expiry in seconds (0: none).
 * Returns 1 when stored, 0 when a SUCCESS was kept.
 */
export const STORE_RESULT = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, doc = pcall(cjson.decode, current)
  if ok and type(doc) == 'table' and doc['status'] == 'SUCCESS' then
    -- The same store again (its reply was lost, say in a Redis restart, and the
    -- client resent it): publish again, since the first PUBLISH may have found
    -- no subscriber; different documents keep the stored SUCCESS silently.
    if current == ARGV[1] then redis.call('PUBLISH', KEYS[1], ARGV[1]) end
    return 0
  end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
`;
