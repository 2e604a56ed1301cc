"""The audit log: every change an operator makes, from any surface — who,
what, to which thing, when, and the thing before and after.

A Redis stream (`operator:audit`), trimmed to about the last 100 000 entries.
Failed logins go to a stream of their own (`operator:audit:logins`, about the
last 10 000): see `record_failed_login`. Phone numbers never go in clear: in
who, target, before and after, values under keys named like a phone number
and any string that looks like an E.164 number are masked (last four digits)
before anything is stored."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from ivr.platform.privacy import mask
from ivr.platform.redis_store import decoded

STREAM = "operator:audit"
MAX_ENTRIES = 100_000
# Failed logins are counted apart, on purpose. Anyone on the internet can make
# them, as many as their addresses allow past the login throttle; in the main
# stream they would roll real change history (who changed the roster, who
# opened a caller's number) out of its cap. Here a flood only rolls older
# failed logins out. They are still worth keeping, unknown names included (as
# "(unknown name)"): a run of them is how operators see an attack on the door.
LOGINS_STREAM = "operator:audit:logins"
MAX_LOGIN_ENTRIES = 10_000

_NUMBER_KEYS = ("phone", "number")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class AuditEntry:
    id: str  # the stream id: ordered, unique
    at: float  # Unix time
    who: str  # "web:alice", "api:alice (token <id>)", "cli:<os user>"; numbers masked
    action: str  # e.g. "token.create", "shift.update"
    target: str  # the id of what changed
    before: Any  # JSON-like, numbers masked; None for a creation
    after: Any  # JSON-like, numbers masked; None for a removal


class AuditLog:
    def __init__(self, client: redis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._clock = clock

    def record(
        self, who: str, action: str, target: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        """A change (or a successful login) to the main log."""
        return self._add(STREAM, MAX_ENTRIES, who, action, target, before, after)

    def record_failed_login(self, who: str, address: str) -> AuditEntry:
        """A failed login ("login.failed", from ADDRESS) to the logins log. WHO
        must name an account, or say it was unknown: never what was typed."""
        return self._add(LOGINS_STREAM, MAX_LOGIN_ENTRIES, who, "login.failed", address)

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The newest LIMIT entries of the main log, newest first."""
        return self._read(STREAM, limit)

    def logins(self, limit: int = 100) -> list[AuditEntry]:
        """The newest LIMIT failed logins, newest first."""
        return self._read(LOGINS_STREAM, limit)

    def _add(
        self,
        stream: str,
        cap: int,
        who: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
    ) -> AuditEntry:
        at = self._clock()
        fields: dict[str, str] = {
            "at": repr(at),
            "who": str(_masked(who)),
            "action": action,
            "target": str(_masked(target)),
            "before": json.dumps(_masked(before), sort_keys=True, default=str),
            "after": json.dumps(_masked(after), sort_keys=True, default=str),
        }
        # A copy: redis-py wants its wider field type, and dict is invariant.
        entry_id = self._redis.xadd(stream, dict(fields.items()), maxlen=cap, approximate=True)
        return _entry(_text(entry_id), fields)

    def _read(self, stream: str, limit: int) -> list[AuditEntry]:
        if limit <= 0:
            return []
        rows = self._redis.xrevrange(stream, count=limit) or []
        return [
            _entry(_text(entry_id), decoded(fields))
            for entry_id, fields in rows
            if entry_id is not None and fields
        ]


def _masked(value: Any, under_number_key: bool = False) -> Any:
    """VALUE with phone numbers masked, however deep they sit."""
    if isinstance(value, str):
        if under_number_key:
            return mask(value)
        return _E164.sub(lambda found: mask(found.group()), value)
    if isinstance(value, dict):
        return {
            key: _masked(item, under_number_key or _is_number_key(key))
            for key, item in value.items()
        }
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)  # a stable order for the JSON
    if isinstance(value, list | tuple):
        return [_masked(item, under_number_key) for item in value]
    return value


def _is_number_key(key: object) -> bool:
    name = str(key).lower()
    return any(name == word or name.endswith("_" + word) for word in _NUMBER_KEYS)


def _entry(entry_id: str, fields: dict[str, str]) -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        at=float(fields["at"]),
        who=fields["who"],
        action=fields["action"],
        target=fields["target"],
        before=json.loads(fields["before"]),
        after=json.loads(fields["after"]),
    )


def _text(value: bytes | str | Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
