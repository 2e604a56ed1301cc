"""Pacing of what a sender hands to Twilio: SMS segments per second (toll-free
numbers default to 3), shared by every worker through Redis.

The guarantee: no one-second window at Twilio holds more than the rate's
segments (beyond the segments of one text longer than that). Twilio takes a
request at some moment between its start and its answer, which we cannot see,
so the pacer counts each send from the moment it starts until one second after
it ends: a send may start only while the sends still counted, plus its own
segments, fit within the rate.

Why that is enough: take any one-second window at Twilio and, of the sends
taken in it, the one that started last, at t. Every other send taken in the
window was taken after t - 1 s, so it ended after t - 1 s: still counted when
the last one started. So all of them were in that one count, which the rate
bounded.

The first version spaced sends 1/rate apart from each booked start (GCRA) and
let 4 texts into one second at 3/s when a send left late; the next spaced them
1/rate from each send's end, which held but added Twilio's answer time to every
gap (about 1.9 texts/s at 3/s with a 200 ms answer). Counting the window
instead lets sends overlap Twilio's answers: at 3/s and 200 ms, 2.5 a second
from one worker, the full rate from several.

For a rate below one segment a second the window is 1/rate seconds long and
holds one segment."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

# A send not reported ended stops counting this long after it started (its
# worker died): longer than any REST call (the client's timeout is 5 s), plus
# the window after it.
IN_FLIGHT_MS = 10_000
POLL_MS = 50  # the longest a waiting send sleeps before it asks again

# KEYS[1] the sends counted (a sorted set: member "<id>:<segments>", score the
# moment it stops counting, ms). ARGV: now (ms), this send's id, its segments,
# the window's capacity in segments, how long an unfinished send counts (ms).
# Returns 0 when the send may go (and counts it), else ms to wait.
_BOOK = """
local sends = KEYS[1]
local now, id, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local capacity, in_flight = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', sends, '-inf', now)
local counted = 0
for _, member in ipairs(redis.call('ZRANGE', sends, 0, -1)) do
  counted = counted + tonumber(string.match(member, ':(%d+)$'))
end
if counted > 0 and counted + n > capacity then
  local first = redis.call('ZRANGE', sends, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) - now)
end
redis.call('ZADD', sends, now + in_flight, id .. ':' .. n)
redis.call('PEXPIRE', sends, in_flight + 60000)
return 0
"""

# KEYS[1] as above. ARGV: the member, when it stops counting (ms): its end plus
# the window. Only ever earlier than booked, and never re-adds a send that has
# already stopped counting (ZADD's XX/LT would need Redis 6.2).
_ENDED = """
local sends = KEYS[1]
local member, stops_at = ARGV[1], ARGV[2]
local booked = redis.call('ZSCORE', sends, member)
if booked and tonumber(stops_at) < tonumber(booked) then
  redis.call('ZADD', sends, stops_at, member)
end
return 0
"""


class RateLimitTimeout(Exception):
    """No room within the wait allowed: try the job again later."""


class SendPacer:
    def __init__(
        self,
        client: redis.Redis,
        name: str,
        per_second: float,
        *,
        in_flight_ms: int = IN_FLIGHT_MS,
    ) -> None:
        self._key = f"ratelimit:{name}"
        self._rate = per_second
        self._in_flight_ms = in_flight_ms
        self._book = client.register_script(_BOOK)
        self._ended = client.register_script(_ENDED)
        # The window: one second holding the rate, or, below one segment a
        # second, the time one segment takes.
        self._window_ms = max(1000, math.ceil(1000 / per_second)) if per_second > 0 else 0
        self._capacity = max(1, math.floor(per_second * self._window_ms / 1000 + 1e-9))

    def _acquire(self, segments: int, max_wait_seconds: float) -> str:
        member = secrets.token_hex(8)
        deadline = time.monotonic() + max_wait_seconds
        while True:
            now_ms = int(time.time() * 1000)
            wait_ms = int(
                self._book(
                    keys=[self._key],
                    args=[now_ms, member, segments, self._capacity, self._in_flight_ms],
                )
            )
            if wait_ms <= 0:
                return f"{member}:{segments}"
            pause = min(wait_ms, POLL_MS) / 1000
            if time.monotonic() + pause > deadline:
                raise RateLimitTimeout(f"{self._key}: no room within {max_wait_seconds} s")
            time.sleep(pause)

    def _end(self, booked: str) -> None:
        # Rounded up: a later send's clock must not read this end as earlier.
        until_ms = math.ceil(time.time() * 1000) + self._window_ms
        # Never in place of the send's own outcome: a Redis error here must not
        # hide Twilio's answer (a permanent 21610 is not retried; a Redis error
        # is). The booking then counts until its in-flight limit: only slower.
        with suppress(redis.RedisError):
            self._ended(keys=[self._key], args=[booked, until_ms])

    @contextmanager
    def sending(self, segments: int, max_wait_seconds: float = 30.0) -> Iterator[None]:
        """Wait for room, then hand the text over within the block; the send
        counts from now until a window after the block ends."""
        if self._rate <= 0:
            yield  # pacing switched off
            return
        booked = self._acquire(segments, max_wait_seconds)
        try:
            yield
        finally:
            self._end(booked)
