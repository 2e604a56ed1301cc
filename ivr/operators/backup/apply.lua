-- Writes a restore, whole or not at all (ivr/operators/backup/restoring.py).
--
-- Every check comes before the first write: Redis does not undo what a script
-- wrote before it stopped, so it must not be able to stop once writing. The
-- payload is checked here again, value by value (Python checked it already),
-- so that no command below can be given a value it refuses.
--
-- A key made between the SCAN and this script is one the script was not told
-- about. It is refused, never deleted or overwritten unseen: an indexed token or
-- block (a replace rebuilds the indexes, and would leave it unlisted, so a live
-- token nobody could see to revoke) or any key the restore would write. Any
-- other (say a password set meanwhile for a name the backup does not hold) is
-- left in place, exactly as if it had been set just after the restore.
--
-- Replies {'ok', the roster's new version, opt-outs added}, or a refusal:
-- {'bad payload', what}, {'not empty', how many keys}, {'changed', key},
-- {'wrong type', key}.

-- KEYS[1] the roster, KEYS[2] the ids of the tokens (a set), KEYS[3] the
-- blocks' index (a sorted set), KEYS[4...] the token, password and block keys
-- `find_keys` found just before (the keys a replace deletes).
local roster_key, token_ids_key, block_index_key = KEYS[1], KEYS[2], KEYS[3]
local found_keys = {}
for i = 4, #KEYS do found_keys[#found_keys + 1] = KEYS[i] end

-- ARGV[1] "replace" or "empty", ARGV[2] the records as JSON (`script_payload`),
-- ARGV[3] the latest time a record may hold (validation.LATEST), ARGV[4...7]
-- the owners' key prefixes (restoring.KEY_PREFIXES): tokens, passwords,
-- blocks, opt-outs.
local replace, payload, latest = ARGV[1] == 'replace', ARGV[2], tonumber(ARGV[3])
local token_prefix, password_prefix = ARGV[4], ARGV[5]
local block_prefix, optout_prefix = ARGV[6], ARGV[7]

local MOST_VERSION = 1e12  -- a roster version, as validation.py allows
local MOST_ITEMS = 64  -- a record's fields and values: the 32 fields validation.py allows
local DELETE_BATCH = 500  -- keys per DEL: Lua's unpack takes a few thousand values at most

local decoded, data = pcall(cjson.decode, payload)
if not decoded or type(data) ~= 'table' then return {'bad payload', 'not JSON'} end

local function whole(v, most)
  return type(v) == 'number' and v == math.floor(v) and v >= 0 and v <= most
end
local function moment(v) return type(v) == 'number' and v >= 0 and v <= latest end
local function fields(t)
  if type(t) ~= 'table' or #t == 0 or #t % 2 ~= 0 or #t > MOST_ITEMS then return false end
  for i = 1, #t do if type(t[i]) ~= 'string' then return false end end
  return true
end
local function id(v, pattern) return type(v) == 'string' and string.find(v, pattern) ~= nil end
local function list(t) return type(t) == 'table' end
local function problem()
  if not whole(data.roster_version, MOST_VERSION) then return 'roster version' end
  if not list(data.roster) or (#data.roster > 0 and not fields(data.roster)) then
    return 'roster'
  end
  for _, section in ipairs({'tokens', 'passwords', 'blocks', 'optouts'}) do
    if not list(data[section]) then return section end
  end
  for _, r in ipairs(data.tokens) do
    if not (list(r) and id(r[1], '^[0-9a-f]+$') and fields(r[2])) then return 'token' end
  end
  for _, r in ipairs(data.passwords) do
    if not (list(r) and id(r[1], '^[a-z0-9._@-]+$') and fields(r[2])) then return 'password' end
  end
  for _, r in ipairs(data.blocks) do
    if not (list(r) and id(r[1], '^n_[0-9a-f]+$') and fields(r[2])
            and whole(r[3], latest + 1) and moment(r[4])) then
      return 'block'
    end
  end
  for _, r in ipairs(data.optouts) do
    if not (list(r) and id(r[1], '^n_[0-9a-f]+$') and type(r[2]) == 'string') then
      return 'opt-out'
    end
  end
end
if not latest then return {'bad payload', 'no latest time'} end
-- Checked here, for the opt-outs' prefix is first used by a write.
if not (token_prefix and password_prefix and block_prefix and optout_prefix) then
  return {'bad payload', 'no key prefixes'}
end
local wrong = problem()
if wrong then return {'bad payload', wrong} end

local told, configured = {}, redis.call('EXISTS', roster_key)
for _, key in ipairs(found_keys) do
  told[key] = true
  configured = configured + redis.call('EXISTS', key)
end
if not replace and configured > 0 then return {'not empty', configured} end
local kinds = {redis.call('TYPE', token_ids_key)['ok'], redis.call('TYPE', block_index_key)['ok']}
if not replace then
  if kinds[1] ~= 'none' and kinds[1] ~= 'set' then return {'wrong type', token_ids_key} end
  if kinds[2] ~= 'none' and kinds[2] ~= 'zset' then return {'wrong type', block_index_key} end
end
local function unseen(key) return not told[key] and redis.call('EXISTS', key) == 1 end
local appeared = replace and 'changed' or 'not empty'
if kinds[1] == 'set' then
  for _, member in ipairs(redis.call('SMEMBERS', token_ids_key)) do
    if unseen(token_prefix .. member) then return {appeared, token_prefix .. member} end
  end
end
if kinds[2] == 'zset' then
  for _, member in ipairs(redis.call('ZRANGE', block_index_key, 0, -1)) do
    if unseen(block_prefix .. member) then return {appeared, block_prefix .. member} end
  end
end
for _, t in ipairs({{data.tokens, token_prefix}, {data.passwords, password_prefix},
                    {data.blocks, block_prefix}}) do
  for _, r in ipairs(t[1]) do
    if unseen(t[2] .. r[1]) then return {appeared, t[2] .. r[1]} end
  end
end
local version = 0
if redis.call('TYPE', roster_key)['ok'] == 'hash' then
  version = tonumber(redis.call('HGET', roster_key, 'version') or '0')
  if not whole(version, MOST_VERSION) then version = 0 end
end
if #data.roster > 0 then version = math.max(version, data.roster_version) + 1 end

-- Writing: nothing below can fail.
if replace then
  local doomed = {roster_key, token_ids_key, block_index_key}
  for _, key in ipairs(found_keys) do doomed[#doomed + 1] = key end
  for i = 1, #doomed, DELETE_BATCH do
    redis.call('DEL', unpack(doomed, i, math.min(i + DELETE_BATCH - 1, #doomed)))
  end
end
if #data.roster > 0 then
  redis.call('HSET', roster_key, 'version', string.format('%d', version), unpack(data.roster))
end
for _, token in ipairs(data.tokens) do
  redis.call('HSET', token_prefix .. token[1], unpack(token[2]))
  redis.call('SADD', token_ids_key, token[1])
end
for _, password in ipairs(data.passwords) do
  redis.call('HSET', password_prefix .. password[1], unpack(password[2]))
end
for _, block in ipairs(data.blocks) do
  redis.call('HSET', block_prefix .. block[1], unpack(block[2]))
  redis.call('EXPIREAT', block_prefix .. block[1], string.format('%d', block[3]))
  redis.call('ZADD', block_index_key, block[4], block[1])
end
local added = 0
for _, optout in ipairs(data.optouts) do
  if redis.call('SET', optout_prefix .. optout[1], optout[2], 'NX') then added = added + 1 end
end
return {'ok', version, added}
