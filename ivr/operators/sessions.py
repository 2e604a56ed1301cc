"""Who is logged in to the pages. The cookie carries only a random session id
(inside Flask's signed session); the session itself lives in Redis, so logout
ends it everywhere, and revoking a token or changing or removing a password
ends every session that was opened with it: a password session keeps the
generation of the password it was opened with, which must still be current."""

from __future__ import annotations

import json
import secrets
import time

import redis

from ivr.operators.accounts import Accounts, Operator

SESSION_SECONDS = 12 * 3600  # one long shift; then log in again
IDLE_SECONDS = 2 * 3600
KEY_PREFIX = "operator:session:"


class Sessions:
    def __init__(self, client: redis.Redis, accounts: Accounts) -> None:
        self._redis = client
        self._accounts = accounts

    def open(self, operator: Operator) -> str:
        session_id = secrets.token_urlsafe(32)
        record = {
            "name": operator.name,
            "role": operator.role,
            "credential": operator.credential,
            "generation": operator.generation,
            "counselor": operator.counselor,
            "started": time.time(),
        }
        self._redis.set(self._key(session_id), json.dumps(record), ex=IDLE_SECONDS)
        return session_id

    def find(self, session_id: str) -> Operator | None:
        """The operator, while the session is fresh and its credential still stands."""
        if not session_id:
            return None
        raw = self._redis.get(self._key(session_id))
        if raw is None:
            return None
        record = json.loads(raw)
        if time.time() - float(record["started"]) > SESSION_SECONDS:
            self.close(session_id)
            return None
        # A session from before generations were kept has none, and so ends.
        operator = Operator(
            record["name"],
            record["role"],
            record["credential"],
            record.get("generation", ""),
            counselor=record.get("counselor", ""),
        )
        if not self._accounts.credential_valid(operator):
            self.close(session_id)
            return None
        self._redis.expire(self._key(session_id), IDLE_SECONDS)
        return operator

    def close(self, session_id: str) -> None:
        self._redis.delete(self._key(session_id))

    @staticmethod
    def _key(session_id: str) -> str:
        return KEY_PREFIX + session_id
