"""Pacing of what a sender hands to Twilio: SMS segments per second (toll-free
numbers default to 3), shared by every worker through Redis.

Each send of n segments is spaced n/rate seconds after the previous one (the
"theoretical arrival time" of GCRA, with no burst allowance), so no one-second
window ever holds more than the rate, plus the segments of one text."""

from __future__ import annotations

import time

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


class RateLimitTimeout(Exception):
    """No room within the wait allowed: try the job again later."""


class SendPacer:
    def __init__(self, client: redis.Redis, name: str, per_second: float) -> None:
        self._key = f"ratelimit:{name}"
        self._rate = per_second
        self._book = client.register_script(_BOOK)

    def acquire(self, segments: int, max_wait_seconds: float = 30.0) -> None:
        if self._rate <= 0:
            return  # pacing switched off
        cost_ms = max(1, round(segments / self._rate * 1000))
        deadline = time.monotonic() + max_wait_seconds
        while True:
            wait_ms = int(self._book(keys=[self._key], args=[int(time.time() * 1000), cost_ms]))
            if wait_ms <= 0:
                return
            if time.monotonic() + wait_ms / 1000 > deadline:
                raise RateLimitTimeout(f"{self._key}: no room within {max_wait_seconds} s")
            time.sleep(wait_ms / 1000)
