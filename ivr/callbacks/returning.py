"""Returning one request's call, as state in Redis: the one owner of every key
a return call writes, for the worker that rings the counselor
(workers/callbacks.py), the webhooks of the counselor's call
(ivr/web/voice/callback_routes.py), the ladder (workers/escalate.py) and the
sweeper.

    callback:<ref>:connect   the running connect job's lease (a Redis lock)
    callback:<ref>:calling   who is being rung to return it: one at a time
    callback:<ref>:ring      asked Twilio for that ring, no answer yet
    callback:<ref>:dialing   which counselor leg dials the person (pressed 1)
    callback:<ref>:told:<leg> that leg already said how the call went
    callbacks:connecting     "ref|counselor" -> when the connect job's lease ends
"""

from __future__ import annotations

import time

import redis
from redis.lock import Lock

from ivr.platform.redis_store import decoded, text

# "reference|counselor" -> when the running connect job's lease ends. Left behind
# only by a job whose worker died mid-ring: the worker's sweeper runs it again.
CONNECTING = "callbacks:connecting"
CALLING_SECONDS = 300  # one return call in progress per request, at most this long
DIALING_SECONDS = 120  # a press of 1 holds the dial this long: Twilio's retries fit in it
TOLD_SECONDS = 86400  # a leg's report is counted once, whenever it is delivered again


def connecting_member(reference: str, counselor_id: str) -> str:
    return f"{reference}|{counselor_id}"


class ReturnCalls:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    # --- the connect job (workers/callbacks.py) ---

    def lease(self, reference: str, seconds: float) -> Lock:
        lock: Lock = self._redis.lock(
            f"callback:{reference}:connect", timeout=seconds, blocking=False
        )
        return lock

    def earlier_ring(self, reference: str) -> float | None:
        """When an earlier run asked Twilio to ring and never heard back."""
        started = decoded(self._redis.hgetall(f"callback:{reference}:ring")).get("started")
        return float(started) if started else None

    def take(self, reference: str, counselor_id: str, *, again: bool = False) -> bool:
        """COUNSELOR_ID is the one being rung to return it; False when another
        ring is in progress (a repeated command or job does not ring twice).
        AGAIN: a run that found its predecessor's unanswered ask takes it over."""
        calling = f"callback:{reference}:calling"
        if again:
            self._redis.set(calling, counselor_id, ex=CALLING_SECONDS)
            return True
        return bool(self._redis.set(calling, counselor_id, nx=True, ex=CALLING_SECONDS))

    def asking(self, reference: str, counselor_id: str, lease_seconds: float) -> None:
        """About to ask Twilio for the ring: noted first, so a run that dies
        before the answer leaves what the next run must check."""
        now = time.time()
        asked = f"callback:{reference}:ring"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(asked, mapping={"started": now, "counselor": counselor_id})
        pipe.expire(asked, CALLING_SECONDS)
        pipe.zadd(CONNECTING, {connecting_member(reference, counselor_id): now + lease_seconds})
        pipe.execute()

    def asked(self, reference: str) -> None:
        """Twilio placed the ring (or had placed the earlier one)."""
        self._redis.delete(f"callback:{reference}:ring")

    def refused(self, reference: str) -> None:
        """Twilio refused the ring: nothing is ringing."""
        self._redis.delete(f"callback:{reference}:ring", f"callback:{reference}:calling")

    def connect_over(self, reference: str, counselor_id: str) -> None:
        """The connect job is done with, however it ended."""
        self._redis.zrem(CONNECTING, connecting_member(reference, counselor_id))

    def due_connects(self, now: float | None = None) -> list[tuple[str, str]]:
        """(reference, counselor) of connect jobs whose lease ran out — their
        worker died mid-ring — each taken by one sweeper only (ZREM decides)."""
        moment = time.time() if now is None else now
        taken = []
        for raw in self._redis.zrangebyscore(CONNECTING, 0, moment):
            member = text(raw)
            reference, _, counselor_id = member.partition("|")
            if self._redis.zrem(CONNECTING, member) and counselor_id:
                taken.append((reference, counselor_id))
        return taken

    # --- the counselor's call (ivr/web/voice/callback_routes.py) ---

    def calling(self, reference: str) -> str:
        """Who is being rung to return it ("" when nobody is)."""
        found = self._redis.get(f"callback:{reference}:calling")
        return text(found) if found else ""

    def start_dialing(self, reference: str, leg: str) -> bool:
        """LEG (a counselor's call) pressed 1: it dials the person. The same
        press delivered again (Twilio retries a webhook whose answer it never
        got) gets True again, or the person would never be called; a press on
        another leg gets False. Twilio acts on one answer per press, so the
        person is dialed once either way."""
        dialing = f"callback:{reference}:dialing"
        if self._redis.set(dialing, leg, nx=True, ex=DIALING_SECONDS):
            return True
        return text(self._redis.get(dialing) or b"") == leg

    def is_dialing(self, reference: str) -> bool:
        return bool(self._redis.exists(f"callback:{reference}:dialing"))

    def first_report(self, reference: str, leg: str) -> bool:
        """True the first time LEG says how its return call went: the same
        webhook delivered twice counts one attempt, not two."""
        return bool(
            self._redis.set(f"callback:{reference}:told:{leg}", 1, nx=True, ex=TOLD_SECONDS)
        )

    def over(self, reference: str) -> None:
        """The return call ended: another may be rung and dial."""
        self._redis.delete(f"callback:{reference}:dialing", f"callback:{reference}:calling")

    def new_step(self, reference: str) -> None:
        """A new step of the urgent ladder: the last step's ring is long over (a
        deadline is minutes, a ring 20 s); its "one return call at a time" mark,
        kept 5 minutes when nobody answered, must not keep this step from ringing."""
        self._redis.delete(f"callback:{reference}:calling")
