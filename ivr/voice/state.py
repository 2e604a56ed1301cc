"""Per-call state in Redis: the caller's language, where they are in the menu,
and how many tries they have used there. It expires on its own, so a call that
ends without a status callback leaves nothing behind for long."""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis

from ivr.redis_store import decoded

CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")


@dataclass
class CallState:
    language: str
    node: str
    tries: int = 0


class CallStates:
    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl = ttl_seconds

    @staticmethod
    def _key(call_sid: str) -> str:
        return f"call:{call_sid}"

    def load(self, call_sid: str) -> CallState | None:
        fields = decoded(self._redis.hgetall(self._key(call_sid)))
        if not fields:
            return None
        tries = fields.get("tries", "0")
        return CallState(
            language=fields.get("language", ""),
            node=fields.get("node", ""),
            tries=int(tries) if tries.isdigit() else 0,
        )

    def save(self, call_sid: str, state: CallState) -> None:
        key = self._key(call_sid)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key, mapping={"language": state.language, "node": state.node, "tries": state.tries}
        )
        pipe.expire(key, self._ttl)
        pipe.execute()

    def forget(self, call_sid: str) -> None:
        self._redis.delete(self._key(call_sid))
