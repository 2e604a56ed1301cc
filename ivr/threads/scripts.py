"""The Lua scripts behind ivr/threads/store.py: each state change of a
thread in one step, so that two counselors, a worker and a webhook acting at
once cannot leave it half changed."""

# Due members of KEYS[1] (score <= ARGV[1]), each pushed to ARGV[2]: taken.
TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member) end
return due
"""

# KEYS: thread, waiting, held-by-claimer. ARGV: counselor, now, id.
CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'gone' end
if state == 'held' and redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then return 'yours' end
if state ~= 'waiting' then return state end
redis.call('HSET', KEYS[1], 'state', 'held', 'holder', ARGV[1], 'taken_at', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 'won'
"""

# KEYS: thread, waiting, held-by-giver, held-by-taker (or the waiting set again).
# ARGV: giver, taker ('' for the waiting pool), now, id.
HAND = """
if redis.call('HGET', KEYS[1], 'state') ~= 'held' then return 'not held' end
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 'not yours' end
redis.call('ZREM', KEYS[3], ARGV[4])
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 'state', 'waiting', 'holder', '')
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'opened'), ARGV[4])
else
  redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'taken_at', ARGV[3])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
end
return 'ok'
"""

# KEYS: thread, waiting, open, held-by-holder, by-number, crisis-due,
# quiet-due. ARGV: by, why, now, id.
CLOSE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'gone' end
if state == 'closed' then return 'closed' end
redis.call('HSET', KEYS[1], 'state', 'closed', 'closed_at', ARGV[3], 'closed_by', ARGV[1],
           'closed_why', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[4])
if redis.call('GET', KEYS[5]) == ARGV[4] then redis.call('DEL', KEYS[5]) end
redis.call('ZREM', KEYS[6], ARGV[4])
redis.call('ZREM', KEYS[7], ARGV[4])
return 'ok'
"""

# A counselor's message, only while they hold the thread: it answers any
# crisis message, and waits in the unsent set until the outbox has it. KEYS:
# thread, messages, crisis-due, unsent, quiet-due. ARGV: counselor, line
# (JSON), now, ttl, id, grace, silence. Returns its sequence, or -1.
SAY = """
if redis.call('HGET', KEYS[1], 'state') ~= 'held' then return -1 end
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return -1 end
local seq = redis.call('RPUSH', KEYS[2], ARGV[2]) - 1
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], 'last_counselor_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'crisis_at')
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]) + tonumber(ARGV[6]), ARGV[5] .. ' ' .. seq)
-- A question asked just now: the silence clock starts again from it.
redis.call('ZADD', KEYS[5], 'XX', tonumber(ARGV[3]) + tonumber(ARGV[7]), ARGV[5])
return seq
"""

# The texter's message, while the thread is open: the silence clock starts
# again. A crisis message is flagged; in a held thread it is due its automatic
# reply unless the counselor answers first (every such message, not only the
# first: a second "I have the pills in my hand" after a reply must not go
# unanswered); a waiting one got the ordinary crisis reply. KEYS: thread,
# messages, crisis-due, quiet-due. ARGV: line (JSON), now, crisis ('1' or ''),
# ttl, id, crisis wait, silence. Returns {sequence, 1 if its automatic reply is
# now due}, or {-1, 0} when the thread is not open.
HEAR = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'waiting' and state ~= 'held' then return {-1, 0} end
local now = tonumber(ARGV[2])
local seq = redis.call('RPUSH', KEYS[2], ARGV[1]) - 1
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], 'last_texter_at', ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[7]), ARGV[5])
if ARGV[3] == '1' then
  redis.call('HSETNX', KEYS[1], 'crisis_at', ARGV[2])
  redis.call('HSET', KEYS[1], 'crisis_seq', seq)
  if state == 'held' then
    redis.call('ZADD', KEYS[3], 'NX', now + tonumber(ARGV[6]), ARGV[5])
    return {seq, 1}
  end
end
return {seq, 0}
"""

# A message's status, in place (its sequence is its index). KEYS: messages.
# ARGV: seq, status. A message that expired with its thread stays gone.
MARK = """
local raw = redis.call('LINDEX', KEYS[1], ARGV[1])
if not raw then return 0 end
local message = cjson.decode(raw)
message['status'] = ARGV[2]
redis.call('LSET', KEYS[1], ARGV[1], cjson.encode(message))
return 1
"""
