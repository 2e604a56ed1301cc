"""Message status callbacks: a one-way state machine per sent text. Twilio may
deliver callbacks late, twice or out of order; a status only ever moves
forward (a late "sent" never overwrites "delivered").

Each text's callback URL names its part of its batch (`?part=<batch>:<index>`,
signed by Twilio with the rest of the URL): a callback can come before the
sender has read the create's own answer and recorded the MessageSid, and one
found by its sid alone would then be lost (as the emulator, which reports
at once, showed). A callback URL without it is found by its sid."""

from __future__ import annotations

import json
import re

import redis

from ivr.sms.outbox import batch_key, sid_key

PART = re.compile(r"[0-9a-f]{24}:(0|[1-9][0-9]{0,2})")  # a batch id and a part's index

RANK = {
    "accepted": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 4,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
}

# KEYS[1] batch hash; ARGV: the part's index, new status, its rank, error code
# (or ""), every status's rank (JSON, RANK), the callback's MessageSid.
# A batch that has expired stays gone: an HSET would make it again, without expiry.
# A part the batch does not have is no part. A callback for another sid than
# the one the part kept is another message's: when a create timed out and was
# sent again (workers/outbox.py), both report to the same part's URL, and the
# lost first one must not mark the kept one "failed" (or "delivered").
_ADVANCE = """
local batch = KEYS[1]
local index, status, rank = ARGV[1], ARGV[2], tonumber(ARGV[3])
local error_code, ranks_json, sid = ARGV[4], ARGV[5], ARGV[6]
if redis.call('EXISTS', batch) == 0 then return 0 end
local parts = tonumber(redis.call('HGET', batch, 'parts') or '0')
if tonumber(index) >= parts then return 0 end
local kept = redis.call('HGET', batch, 'sid' .. index)
if kept and kept ~= sid then return 0 end
local field = 'state' .. index
local current = redis.call('HGET', batch, field)
local ranks = cjson.decode(ranks_json)
local current_rank = current and ranks[current] or 0
if rank <= current_rank then return 0 end
redis.call('HSET', batch, field, status)
-- Before its sid is kept: whose report this was, for KEEP to undo if not its.
if not kept then redis.call('HSET', batch, 'by' .. index, sid) end
if error_code ~= '' then redis.call('HSET', batch, field .. '_error', error_code) end
return 1
"""


# KEYS: the batch hash, the sid's own key. ARGV: the part's index, its sid,
# the sid key's expiry, "<batch>:<index>". The sid the part keeps (the
# message Twilio took), its state "queued" unless a report already moved it
# on; a report that came first from another sid (the lost first send of a
# create that timed out) is undone: its "failed" is not this message's.
_KEEP = """
local batch, index, sid = KEYS[1], ARGV[1], ARGV[2]
redis.call('HSET', batch, 'sid' .. index, sid)
local by = redis.call('HGET', batch, 'by' .. index)
if by and by ~= sid then
  redis.call('HSET', batch, 'state' .. index, 'queued')
  redis.call('HDEL', batch, 'state' .. index .. '_error')
end
redis.call('HDEL', batch, 'by' .. index)  -- kept now: reports are matched to it
redis.call('HSETNX', batch, 'state' .. index, 'queued')
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[3])
return 1
"""


class StatusUpdates:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._advance = client.register_script(_ADVANCE)
        self._keep = client.register_script(_KEEP)

    def keep_sid(self, batch_id: str, index: int, sid: str, ttl_seconds: int) -> None:
        """The outbox sent part INDEX of BATCH_ID as SID: its reports find it."""
        self._keep(
            keys=[batch_key(batch_id), sid_key(sid)],
            args=[index, sid, ttl_seconds, f"{batch_id}:{index}"],
        )

    def record(self, message_sid: str, status: str, error_code: str, part: str = "") -> bool:
        """True when the status moved the message forward. PART: the batch and
        part its callback URL names, else it is found by MESSAGE_SID."""
        rank = RANK.get(status)
        if rank is None:
            return False
        where = part if PART.fullmatch(part) else self._redis.get(sid_key(message_sid))
        if where is None:
            return False  # not ours, or expired
        text = where.decode() if isinstance(where, bytes) else str(where)
        batch_id, _, index = text.partition(":")
        moved = self._advance(
            keys=[batch_key(batch_id)],
            args=[index, status, rank, error_code[:10], json.dumps(RANK), message_sid],
        )
        return bool(moved)
