"""Pacing of what a sender hands to Twilio: SMS segments per second (toll-free
numbers default to 3), shared by every worker through Redis.

Each send of n segments may go n/rate seconds after the previous one (the
"theoretical arrival time" of GCRA, with no burst allowance), counted from
when the previous one was handed over *and* from when it ended: the moment a
request reaches Twilio lies between the two, and a send that left its booked
moment late (a busy machine, a slow network) would otherwise be followed too
closely by the next, on time. So no one-second window at Twilio ever holds
more than the rate, plus the segments of one text (the bench measured 4 texts
in one second at 3/s before the end was counted too)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

# KEYS[1] the next free moment (ms); ARGV: now (ms), cost of this send (ms).
# Returns 0 when the send may go now (and books its time), else ms to wait.
_BOOK = """
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if free_at > now then return free_at - now end
redis.call('SET', KEYS[1], math.max(now, free_at) + cost, 'PX', 60000)
return 0
"""

# KEYS[1] the next free moment (ms); ARGV: when a send ended (ms), its cost (ms).
# Never brings the next free moment forward.
_ENDED = """
local later = tonumber(ARGV[1]) + tonumber(ARGV[2])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if later > free_at then redis.call('SET', KEYS[1], later, 'PX', 60000) end
return 0
"""


class RateLimitTimeout(Exception):
    """No room within the wait allowed: try the job again later."""


class SendPacer:
    def __init__(self, client: redis.Redis, name: str, per_second: float) -> None:
        self._key = f"ratelimit:{name}"
        self._rate = per_second
        self._book = client.register_script(_BOOK)
        self._ended = client.register_script(_ENDED)

    def _cost_ms(self, segments: int) -> int:
        # Up, never down: 1000/3 rounded to 333 ms let 4 texts into 999 ms.
        return max(1, math.ceil(segments / self._rate * 1000))

    def acquire(self, segments: int, max_wait_seconds: float = 30.0) -> None:
        if self._rate <= 0:
            return  # pacing switched off
        cost_ms = self._cost_ms(segments)
        deadline = time.monotonic() + max_wait_seconds
        while True:
            wait_ms = int(self._book(keys=[self._key], args=[int(time.time() * 1000), cost_ms]))
            if wait_ms <= 0:
                return
            if time.monotonic() + wait_ms / 1000 > deadline:
                raise RateLimitTimeout(f"{self._key}: no room within {max_wait_seconds} s")
            time.sleep(wait_ms / 1000)

    def ended(self, segments: int) -> None:
        """The send booked by `acquire` is over (answered or failed): the next
        may go no sooner than its cost from now."""
        if self._rate <= 0:
            return
        # Rounded up: the next send's clock must not read this end as earlier.
        now_ms = math.ceil(time.time() * 1000)
        # Never in place of the send's own outcome: a Redis error here must not
        # hide Twilio's answer (a permanent 21610 is not retried; a Redis error is).
        with suppress(redis.RedisError):
            self._ended(keys=[self._key], args=[now_ms, self._cost_ms(segments)])

    @contextmanager
    def sending(self, segments: int, max_wait_seconds: float = 30.0) -> Iterator[None]:
        """Wait for room, then hand over within the block."""
        self.acquire(segments, max_wait_seconds)
        try:
            yield
        finally:
            self.ended(segments)
