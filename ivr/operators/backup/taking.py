"""Taking a backup: the line's configuration as one document, its keys found
a few at a time (Redis serves the line meanwhile) and their values read in
one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import redis

from ivr.operators.audit import STREAM as AUDIT_STREAM
from ivr.operators.backup.document import (
    FORMAT,
    VERSION,
    checksum,
    key_fingerprint,
    settings_record,
)
from ivr.operators.backup.keys import PATTERNS, as_text, find_keys
from ivr.platform.config import Settings
from ivr.roster.store import ROSTER_KEY

_AUDIT_BATCH = 5_000


def collect(
    client: redis.Redis, settings: Settings, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The backup document of the line's configuration as it is now.

    The keys are found first (`find_keys`), then read in one MULTI: the values
    are consistent with one another, and a key removed in between is left
    out. One made while the keys are being found may be missed, as if it had
    been made just after the backup."""
    found = {section: find_keys(client, pattern) for section, pattern in PATTERNS.items()}
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(ROSTER_KEY)
        for section in ("tokens", "passwords", "blocks"):
            for key in found[section]:
                pipe.hgetall(key)
        for key in found["optouts"]:
            pipe.get(key)
        replies = iter(pipe.execute())
    roster = _fields(next(replies))
    tokens, passwords, blocks, optouts = (
        [(key, next(replies)) for key in found[section]] for section in PATTERNS
    )
    data: dict[str, Any] = {
        "roster": None
        if "document" not in roster
        else {
            "version": int(roster.get("version", "0")),
            "saved_at": roster.get("saved_at", ""),
            "source": roster.get("source", ""),
            "document": json.loads(roster["document"]),
        },
        "tokens": {_tail(key): _fields(raw) for key, raw in tokens if raw},
        "passwords": {_tail(key): _fields(raw) for key, raw in passwords if raw},
        "blocks": {_tail(key): _fields(raw) for key, raw in blocks if raw},
        "optouts": {_tail(key): as_text(raw) for key, raw in optouts if raw is not None},
    }
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds"),
        "key_fingerprint": key_fingerprint(settings.secret_key),
        "settings": settings_record(settings),
        "data": data,
        "audit": list(_audit_entries(client)),
    }
    document["checksum"] = checksum(document)
    return document


def _audit_entries(client: redis.Redis) -> Iterator[dict[str, str]]:
    start = "-"
    while True:
        rows = client.xrange(AUDIT_STREAM, min=start, count=_AUDIT_BATCH) or []
        for entry_id, fields in rows:
            yield {"id": as_text(entry_id)} | _fields(fields)
        if len(rows) < _AUDIT_BATCH:
            return
        start = "(" + as_text(rows[-1][0])


def _fields(raw: Any) -> dict[str, str]:
    """A hash from HGETALL inside a script (a flat list) or from redis-py (a dict)."""
    if isinstance(raw, dict):
        return {as_text(k): as_text(v) for k, v in raw.items()}
    items = [as_text(item) for item in raw or []]
    return dict(zip(items[::2], items[1::2], strict=True))


def _tail(key: bytes | str) -> str:
    return as_text(key).rsplit(":", 1)[1]
