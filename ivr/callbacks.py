"""Requests for a counselor to call someone back (from voicemail, the menu, a
CALL text or a crisis text). The number is kept here only, for the callback,
and the record expires; everything else refers to it by its reference."""

from __future__ import annotations

import secrets
import time

import redis

from ivr.privacy import number_ref
from ivr.redis_store import decoded

OPEN = "callbacks:open"
# Unambiguous when read aloud or typed from a text: no 0/O, 1/I/L.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference(prefix: str) -> str:
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


class Callbacks:
    def __init__(self, client: redis.Redis, secret_key: str, retention_seconds: int) -> None:
        self._redis = client
        self._secret = secret_key
        self._ttl = retention_seconds

    def create(
        self, number: str, language: str, source: str, *, urgent: bool = False, note: str = ""
    ) -> str:
        reference = new_reference("CB")
        key = f"callback:{reference}"
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "number": number,
                "number_ref": number_ref(self._secret, number),
                "language": language,
                "source": source,
                "urgent": int(urgent),
                "note": note,
                "status": "open",
                "created": int(now),
            },
        )
        pipe.expire(key, self._ttl)
        # Urgent requests sort first: their score is pushed a day into the past.
        pipe.zadd(OPEN, {reference: now - (86400 if urgent else 0)})
        pipe.execute()
        return reference

    def get(self, reference: str) -> dict[str, str]:
        return decoded(self._redis.hgetall(f"callback:{reference}"))

    def open_references(self) -> list[str]:
        """Open requests, most urgent and oldest first; expired ones dropped."""
        found = []
        for raw in self._redis.zrange(OPEN, 0, -1):
            reference = raw.decode() if isinstance(raw, bytes) else str(raw)
            if self._redis.exists(f"callback:{reference}"):
                found.append(reference)
            else:
                self._redis.zrem(OPEN, reference)
        return found

    def mark(self, reference: str, status: str, *, by: str = "") -> bool:
        """done, or open again (a failed attempt); False for an unknown reference."""
        key = f"callback:{reference}"
        if not self._redis.exists(key):
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"status": status, "updated": int(time.time()), "by": by})
        if status == "done":
            pipe.zrem(OPEN, reference)
        else:
            pipe.hincrby(key, "attempts", 1)
        pipe.execute()
        return True
