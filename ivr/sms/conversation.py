"""Per-number conversation state (language, last topic) and a per-number lock
so two texts from one person are handled one after the other, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from ivr.privacy import number_ref
from ivr.redis_store import decoded

LOCK_SECONDS = 5  # longer than any webhook's work; released at once when done


@dataclass
class Conversation:
    language: str
    topic: str = ""


class Conversations:
    def __init__(self, client: redis.Redis, secret_key: str, ttl_seconds: int) -> None:
        self._redis = client
        self._secret = secret_key
        self._ttl = ttl_seconds

    def _key(self, number: str) -> str:
        return f"sms:conv:{number_ref(self._secret, number)}"

    def load(self, number: str, default_language: str) -> tuple[Conversation, bool]:
        """The conversation, and whether it is new (its first text gets the opt-out line)."""
        fields = decoded(self._redis.hgetall(self._key(number)))
        if not fields:
            return Conversation(default_language), True
        return Conversation(
            fields.get("language") or default_language, fields.get("topic", "")
        ), False

    def save(self, number: str, conversation: Conversation) -> None:
        key = self._key(number)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"language": conversation.language, "topic": conversation.topic})
        pipe.expire(key, self._ttl)
        pipe.execute()

    @contextmanager
    def locked(self, number: str) -> Iterator[None]:
        lock = self._redis.lock(
            f"{self._key(number)}:lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
        )
        if not lock.acquire():
            raise TimeoutError("another text from this number is still being handled")
        try:
            yield
        finally:
            lock.release()
