"""Requests for a counselor to call someone back (from voicemail, the menu, a
CALL text or a crisis text). The number is kept here only, for the callback,
and the record expires; everything else refers to it by its reference."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

import redis

from ivr.platform.privacy import number_ref
from ivr.platform.redis_store import decoded

OPEN = "callbacks:open"
DONE = "callbacks:done"  # reference -> when it was done: the pages' "recently done"
# Who a connect job (ivr.jobs.Jobs.connect_callback) rings when it is not a
# counselor on the roster: the always-staffed backup line
# (HELPLINE_BACKUP_NUMBER), the urgent ladder's last step.
BACKUP_LINE = "@backup"
URGENT_HEAD_START = 86400  # urgent requests sort a day ahead of the rest
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
        self,
        number: str,
        language: str,
        source: str,
        *,
        urgent: bool = False,
        note: str = "",
        consent: str = "asked",
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
                # How the person asked to be called back: "asked" (a text, the
                # menu's CALL), "caller_id" or "number" (before a message).
                "consent": consent,
                "status": "open",
                "created": int(now),
            },
        )
        pipe.expire(key, self._ttl)
        # Urgent requests sort first: their score is pushed a day into the past.
        pipe.zadd(OPEN, {reference: now - (URGENT_HEAD_START if urgent else 0)})
        pipe.execute()
        return reference

    def request_once(self, number: str, language: str, source: str) -> tuple[str, bool]:
        """A person's request to be called back, opened once: while one they
        asked for is still open, asking again (a second "CALL") is the same
        request, not a second one for the counselors to work through (and a
        second alert to them). Returns the reference and whether it is new.
        Texts from one number are handled one at a time (ivr/sms/conversation.py),
        so two askings cannot race here."""
        asked = f"callback:asked:{number_ref(self._secret, number)}"
        earlier = self._redis.get(asked)
        if earlier is not None:
            reference = earlier.decode() if isinstance(earlier, bytes) else str(earlier)
            if self._redis.zscore(OPEN, reference) is not None:
                return reference, False
        reference = self.create(number, language, source)
        # By the keyed hash of the number, and gone with the record it points at.
        self._redis.set(asked, reference, ex=self._ttl)
        return reference, True

    def get(self, reference: str) -> dict[str, str]:
        return decoded(self._redis.hgetall(f"callback:{reference}"))

    def open_references(self) -> list[str]:
        """Open requests, most urgent and oldest first; expired ones dropped."""
        return self._still_kept(OPEN, self._redis.zrange(OPEN, 0, -1))

    def _still_kept(self, index: str, members: Iterable[object]) -> list[str]:
        """The references of INDEX whose record is still there; the rest,
        expired with their record, are dropped from the index."""
        found = []
        for raw in members:
            reference = raw.decode() if isinstance(raw, bytes) else str(raw)
            if self._redis.exists(f"callback:{reference}"):
                found.append(reference)
            else:
                self._redis.zrem(index, reference)
        return found

    def mark(self, reference: str, status: str, *, by: str = "", attempt: bool = True) -> bool:
        """done, or open again; `attempt`: reopened because a call back did not
        reach the person (counted), not by an operator. False for an unknown
        reference. Every change of state goes through here, so the open and
        done lists always agree with the records."""
        key = f"callback:{reference}"
        record = self.get(reference)
        if not record:
            return False
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"status": status, "updated": int(now), "by": by})
        if status == "done":
            pipe.zrem(OPEN, reference)
            pipe.zadd(DONE, {reference: now})
            pipe.zremrangebyscore(DONE, 0, now - self._ttl)
        else:
            created = float(record.get("created", now))
            urgent = record.get("urgent") == "1"
            pipe.zadd(OPEN, {reference: created - (URGENT_HEAD_START if urgent else 0)})
            pipe.zrem(DONE, reference)
            if attempt:
                pipe.hincrby(key, "attempts", 1)
        pipe.execute()
        return True

    def done_references(self, limit: int = 100) -> list[str]:
        """Recently done, newest first; expired ones dropped."""
        return self._still_kept(DONE, self._redis.zrevrange(DONE, 0, limit - 1))
