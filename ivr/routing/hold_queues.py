"""The Twilio queue a caller waits in, and when the line deletes it.

Each dispatch has its own queue (`holding.queue_name`), made by Twilio at the
caller's `<Enqueue>`. Twilio never removes a queue by itself: "Queues persist.
To optimize fetch operations, inactive Queues should be deleted" ("Queue
Resource", https://www.twilio.com/docs/voice/api/queue-resource). So:

- when the caller leaves the queue for good (its Enqueue action, with the
  queue's `QueueSid`), a job deletes it (`workers/queues.py`);
- every `SWEEP_SECONDS` one worker's sweeper queues a sweep that deletes the
  line's empty queues whose dispatch is over: those whose job never ran (a
  worker died, the webhook was lost).

Deleting never touches a caller still waiting: Twilio refuses to delete a
queue with callers in it ("Only empty queues are deletable", "REST API:
Queues", https://www.twilio.com/docs/api/rest/queue), and the sweep also
leaves a queue alone while its dispatch is open or its conversation may go on.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import redis

from ivr.routing.dispatches import BUSY_FOR_AT_MOST, Dispatches

QUEUE_SID = re.compile(r"QU[0-9a-fA-F]{32}")
_LINE_QUEUE = re.compile(r"d([0-9a-f]{20})")  # holding.queue_name of a dispatch id
SWEEP_SECONDS = 600
NEXT_SWEEP = "twilio-queues:next-sweep"
# A queue named like the line's whose dispatch this Redis no longer knows (it
# expired, or another deployment shares the account) is deleted only once no
# call could still be using it.
UNKNOWN_AFTER_SECONDS = BUSY_FOR_AT_MOST

# KEYS: the next sweep's time. ARGV: now, the one after. 1 when a sweep is due
# now (and the next is set, so one worker of many sweeps); the first time it is
# only set: a worker starting sweeps a period later, not with every start.
_DUE = """
local next_sweep = KEYS[1]
local now, after = ARGV[1], ARGV[2]
local due = redis.call('GET', next_sweep)
if due and tonumber(due) > tonumber(now) then return 0 end
redis.call('SET', next_sweep, after)
if due then return 1 end
return 0
"""


def is_queue_sid(value: str) -> bool:
    return QUEUE_SID.fullmatch(value) is not None


def dispatch_of_queue(name: str) -> str | None:
    """The dispatch a queue name belongs to, or None for a queue not the line's."""
    found = _LINE_QUEUE.fullmatch(name)
    return found.group(1) if found else None


def sweep_due(client: redis.Redis, now: float | None = None) -> bool:
    moment = time.time() if now is None else now
    script = client.register_script(_DUE)
    return bool(script(keys=[NEXT_SWEEP], args=[moment, moment + SWEEP_SECONDS]))


def may_delete(
    dispatches: Dispatches, name: str, created: datetime | None, now: float | None = None
) -> bool:
    """Whether the sweep may delete an empty queue of this name: the line's,
    and no caller will wait in it again nor is talking through it."""
    dispatch_id = dispatch_of_queue(name)
    if dispatch_id is None:
        return False  # not the line's: someone else's queue on the account
    moment = time.time() if now is None else now
    dispatch = dispatches.load(dispatch_id)
    if dispatch is None:
        return created is not None and moment - created.timestamp() >= UNKNOWN_AFTER_SECONDS
    if dispatch.is_open:
        return False  # the caller is joining, or may be back in it
    if dispatch.state == "bridged" and dispatch.ended_at is None:
        # Talking, unless the end's callback was lost: then no call lasts this long.
        return moment - (dispatch.answered_at or dispatch.created) >= BUSY_FOR_AT_MOST
    return True
