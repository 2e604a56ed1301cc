"""Per-number conversation state (language, last topic) and a per-number lock
so two texts from one person are handled one after the other, in order.

Opening a conversation takes one Redis round trip (the lock, the state, and
whatever else the handler must know of the number) and closing it one more
(the new state and the unlock, together): a text's handling was nine round
trips, most of its time on this 2-core machine (docs/benchmarks.md)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from ivr.platform.privacy import number_ref
from ivr.platform.redis_store import decoded

LOCK_SECONDS = 5  # longer than any webhook's work; released at once when done
# How long a text waits for its number's lock: under the 3 s Twilio waits for our
# answer (ivr/golive/overrides.py, rt=3000). A lock left by a killed process then
# gets this text the webhook's content-only answer (ivr/web/sms.py), given in
# time, instead of Twilio's fallback on top of a late real reply.
WAIT_SECONDS = 2
RETRY_SECONDS = 0.05  # between tries for a lock another text of this number holds

# Only the holder may unlock: a lock that outlived LOCK_SECONDS and was taken by
# the next text must not be released by the first. Sent with EVAL (not EVALSHA)
# inside the closing transaction: redis-py checks a pipeline's scripts with a
# round trip of its own, which is what the transaction saves.
_UNLOCK = """
local lock, token = KEYS[1], ARGV[1]
if redis.call('GET', lock) == token then
    return redis.call('DEL', lock)
end
return 0
"""


@dataclass
class Conversation:
    language: str
    topic: str = ""


@dataclass
class Opened:
    """A held conversation: its state, whether it is new (its first text gets the
    opt-out line), and whether each of the keys asked about exists."""

    conversation: Conversation
    first: bool
    exists: tuple[bool, ...]


class Conversations:
    def __init__(self, client: redis.Redis, secret_key: str, ttl_seconds: int) -> None:
        self._redis = client
        self._secret = secret_key
        self._ttl = ttl_seconds

    def _key(self, number: str) -> str:
        return f"sms:conv:{number_ref(self._secret, number)}"

    def language_of(self, number: str) -> str | None:
        """The conversation's language, if the number has one (read, not held)."""
        language = self._redis.hget(self._key(number), "language")
        return language.decode() if isinstance(language, bytes) else language

    @contextmanager
    def opened(
        self, number: str, default_language: str, *, exists: Sequence[str] = ()
    ) -> Iterator[Opened]:
        """Hold the number's conversation while the block runs; save it when the
        block ends normally (not when it raises) and let go of it either way.
        `exists`: keys whose existence is read with the conversation."""
        key = self._key(number)
        lock = f"{key}:lock"
        token = secrets.token_hex(16)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(lock, token, nx=True, px=LOCK_SECONDS * 1000)
            pipe.hgetall(key)
            for name in exists:
                pipe.exists(name)
            held, raw, *found = pipe.execute()
            # Read right after the lock was taken, on the same connection: while
            # we hold it no other text of this number changes the state.
            if held:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError("another text from this number is still being handled")
            time.sleep(RETRY_SECONDS)
        fields = decoded(raw)
        opened = Opened(
            Conversation(fields.get("language") or default_language, fields.get("topic", "")),
            first=not fields,
            exists=tuple(bool(n) for n in found),
        )
        try:
            yield opened
        except BaseException:
            self._redis.eval(_UNLOCK, 1, lock, token)
            raise
        pipe = self._redis.pipeline(transaction=True)
        state = opened.conversation
        pipe.hset(key, mapping={"language": state.language, "topic": state.topic})
        pipe.expire(key, self._ttl)
        pipe.eval(_UNLOCK, 1, lock, token)
        pipe.execute()
