"""The outbox: the one path every outbound text takes (except the inline crisis
reply). A reply of one or more texts becomes a batch record in Redis — the
number and bodies kept only there, expiring — and a job that carries only the
batch id. The batch id comes from what caused the reply (an inbound
MessageSid, a call and a text), so a repeated webhook queues nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

import redis
from redis.typing import EncodableT
from rq import Queue

from ivr.jobs import Jobs
from ivr.platform.privacy import number_ref
from ivr.platform.redis_store import decoded

log = logging.getLogger("helpline.outbox")
LEASES = "outbox:leases"  # batch id -> when its running job's lease ends


URGENT_KINDS = ("crisis_alert",)  # queued ahead of everything else

# A queued batch not started within this long is queued again by the sweeper.
QUEUED_GRACE_SECONDS = 120

# KEYS: the batch, the deadlines; ARGV: batch id, ttl, deadline, fields (JSON),
# then the commands that queue its job, as RQ would send them: each one's
# number of words, then its words. Run only for a new batch, in the same step.
_CREATE = """
local batch, deadlines = KEYS[1], KEYS[2]
local batch_id, ttl, deadline, fields_json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local enqueue = {}  -- ARGV[5] on: the commands that queue the job
for i = 5, #ARGV do enqueue[#enqueue + 1] = ARGV[i] end
if redis.call('EXISTS', batch) == 1 then return 0 end
for name, value in pairs(cjson.decode(fields_json)) do
  redis.call('HSET', batch, name, tostring(value))
end
redis.call('EXPIRE', batch, ttl)
redis.call('ZADD', deadlines, deadline, batch_id)
local at = 1
while at <= #enqueue do
  local words = tonumber(enqueue[at])
  redis.call(unpack(enqueue, at + 1, at + words))
  at = at + words + 1
end
return 1
"""


def batch_id_for(cause: str) -> str:
    """The batch a cause makes: the same cause, the same batch, sent once."""
    return hashlib.sha256(cause.encode()).hexdigest()[:24]


def batch_key(batch_id: str) -> str:
    return f"outbox:{batch_id}"


def cap_key(to_ref: str, hour: int | None = None) -> str:
    """Replies counted against one number's hourly cap (its keyed hash: no number)."""
    hour = int(time.time() // 3600) if hour is None else hour
    return f"outbox:cap:{to_ref}:{hour}"


def cap_notice_key(to_ref: str, hour: int | None = None) -> str:
    """Set once the number over its cap was told so, this hour."""
    return cap_key(to_ref, hour) + ":notice"


def sid_key(message_sid: str) -> str:
    return f"outbox:sid:{message_sid}"


class Outbox:
    def __init__(
        self, client: redis.Redis, queue: Queue, secret_key: str, retention_seconds: int
    ) -> None:
        self._redis = client
        self._jobs = Jobs(queue)
        self._secret = secret_key
        self._ttl = retention_seconds
        self._create = client.register_script(_CREATE)

    def send(
        self,
        to: str,
        bodies: list[str],
        *,
        cause: str,
        kind: str,
        despite_opt_out: bool = False,
        language: str = "",
    ) -> str:
        """Queue `bodies` for `to`, in order, once per `cause`. Returns the batch id.
        `language`: the reader's, for what the sender may say instead (over the cap)."""
        batch_id = batch_id_for(cause)
        fields: dict[str, str | int] = {
            "to": to,
            "kind": kind,
            "parts": len(bodies),
            "status": "queued",
            "created": int(time.time()),
            "to_ref": number_ref(self._secret, to),
            "despite_opt_out": int(despite_opt_out),
            "language": language,
        }
        fields.update({f"body{i}": body for i, body in enumerate(bodies)})
        # A crisis alert goes to the front: a counselor must not learn of a crisis
        # only after a burst's ordinary replies (the load test saw 77 s).
        enqueue = self._enqueue_commands(batch_id, at_front=kind in URGENT_KINDS)
        # Record, expiry, a deadline and the job in one step, one round trip (the
        # web answers sooner): a batch whose job never runs is found by the sweeper
        # when the deadline passes; a cause already answered queues nothing.
        made = self._create(
            keys=[batch_key(batch_id), LEASES],
            args=[
                batch_id,
                self._ttl,
                time.time() + QUEUED_GRACE_SECONDS,
                json.dumps(fields),
                *enqueue,
            ],
        )
        if not made:
            return batch_id  # this cause was already answered
        log.info(
            "outbox %s queued: %s, %d part(s), to %s", batch_id, kind, len(bodies), fields["to_ref"]
        )
        return batch_id

    def enqueue(
        self,
        batch_id: str,
        attempt: int = 0,
        *,
        at_front: bool = False,
        pipeline: redis.client.Pipeline | None = None,
    ) -> None:
        self._jobs.send_batch(
            batch_id, attempt, failure_ttl=self._ttl, at_front=at_front, pipeline=pipeline
        )

    def _enqueue_commands(self, batch_id: str, *, at_front: bool) -> list[EncodableT]:
        """What `enqueue` sends to Redis, not sent but flattened for _CREATE:
        RQ's own commands (its job format stays RQ's), made conditional."""
        with self._redis.pipeline(transaction=False) as recorder:
            self.enqueue(batch_id, at_front=at_front, pipeline=recorder)
            flat: list[EncodableT] = []
            for words, _options in recorder.command_stack:
                flat.append(len(words))
                flat.extend(words)
        return flat

    def replies_this_hour(self, to: str) -> int:
        """How many replies `to` was sent this hour, as its cap counts them."""
        return int(self._redis.get(cap_key(number_ref(self._secret, to))) or 0)

    def batch(self, batch_id: str) -> dict[str, str]:
        return decoded(self._redis.hgetall(batch_key(batch_id)))

    def requeue_abandoned(self, now: float | None = None) -> list[str]:
        """Batches whose job died mid-send (its lease ran out): run them again.
        ZREM decides which of several sweepers takes each one."""
        moment = time.time() if now is None else now
        taken = []
        for raw in self._redis.zrangebyscore(LEASES, 0, moment):
            batch_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if self._redis.zrem(LEASES, batch_id):
                if not self._redis.exists(batch_key(batch_id)):
                    continue  # expired: HINCRBY would make it again, without expiry
                attempt = int(self._redis.hincrby(batch_key(batch_id), "requeued", 1))
                self.enqueue(batch_id, attempt)
                taken.append(batch_id)
                log.warning("outbox %s: its job stopped mid-send; queued again", batch_id)
        return taken
