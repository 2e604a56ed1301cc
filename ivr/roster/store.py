"""The roster in Redis: one hash, replaced whole in one MULTI/EXEC, so a
reader sees the old roster or the new one, never a mix.

The document is the export format as JSON, validated again on the way out
(through the same parser as files), and parsed once per version: a process
that loads the roster on every call pays one small HGET while it is unchanged,
and keeps the on-call index it has already built. A store made for one job (an
alert, a callback) finds the document already parsed in this process, by its
digest, and pays one HMGET instead of a parse: at 10,000 shifts a parse and a
new index take most of a second.

Edits (`ivr.roster.edit`) read, change and write the whole document; `save_if`
writes only over the version they read, so two editors never lose each
other's change.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from ivr.roster.export import to_data
from ivr.roster.model import Roster
from ivr.roster.parse import parse_roster

ROSTER_KEY = "helpline:roster"
# Parsed documents kept per process, by digest: the current roster and the one
# before it (requests still in flight when an edit lands). Two, not more: a
# roster of 10,000 shifts weighs about 5 MB parsed, and each week of its
# on-call index 1.5 MB more.
PARSED_KEPT = 2
_parsed: OrderedDict[str, Roster] = OrderedDict()
_parsed_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A parse makes tens of thousands of short-lived objects, and the cyclic
    garbage collector, run again and again in the middle of it, took 120-450 ms
    of the first call after a change at 10,000 shifts (bench.growth): the caller
    who pressed 1 waited for it. Paused for the parse (these objects hold no
    cycles to find), it runs afterwards at its own pace."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_document(document: str, source: str) -> Roster:
    """The roster a stored document says, parsed once per process however many
    stores read it. Keyed by the document itself (its digest), not by version:
    two Redis servers (tests, a restore) can hold different rosters under the
    same version. A document that does not validate is not kept."""
    digest = hashlib.sha256(document.encode()).hexdigest()
    with _parsed_lock:
        roster = _parsed.get(digest)
        if roster is not None:
            _parsed.move_to_end(digest)
            return roster
    with _collector_paused():
        roster = parse_roster(json.loads(document), source)
    with _parsed_lock:
        _parsed[digest] = roster
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    return roster


@dataclass(frozen=True)
class StoredRoster:
    roster: Roster
    version: int
    saved_at: datetime
    source: str


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RosterStore:
    def __init__(self, client: redis.Redis, key: str = ROSTER_KEY) -> None:
        self.client = client
        self.key = key
        self._cached: StoredRoster | None = None
        self._lock = threading.Lock()

    def save(self, roster: Roster, source: str = "") -> int:
        """Replace the stored roster; returns its new version (1, 2, …)."""
        pipe = self.client.pipeline(transaction=True)
        self._queue_write(pipe, roster, source)
        version, _ = pipe.execute()
        return int(version)

    def save_if(self, roster: Roster, expected_version: int, source: str = "") -> int | None:
        """Replace the stored roster only if its version is still
        `expected_version` (0: none saved yet); returns the new version, or
        None when someone saved in between (nothing is written then)."""
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self.key)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                if int(_text(pipe.hget(self.key, "version")) or 0) != expected_version:
                    return None
                pipe.multi()
                self._queue_write(pipe, roster, source)
                version, _ = pipe.execute()
            except redis.WatchError:
                return None
        return int(version)

    def _queue_write(self, pipe: redis.client.Pipeline, roster: Roster, source: str) -> None:
        document = json.dumps(to_data(roster), ensure_ascii=False, separators=(",", ":"))
        pipe.hincrby(self.key, "version", 1)
        pipe.hset(
            self.key,
            mapping={
                "document": document,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": source,
            },
        )

    def version(self) -> int:
        """The stored version, 0 when no roster was ever saved."""
        return int(_text(self.client.hget(self.key, "version")) or 0)

    def load(self) -> Roster | None:
        stored = self.load_stored()
        return stored.roster if stored is not None else None

    def load_stored(self) -> StoredRoster | None:
        """The current roster with its version, or None if none was saved.
        A stored document that no longer validates raises RosterError."""
        version = self.version()
        with self._lock:
            if self._cached is not None and self._cached.version == version:
                return self._cached
        if version == 0:
            return None
        raw = self.client.hmget(self.key, ["version", "document", "saved_at", "source"])
        got_version, document, saved_at, source = (_text(v) for v in raw)
        if got_version is None or document is None:
            return None
        roster = _parse_document(document, f"redis:{self.key}")
        stored = StoredRoster(
            roster,
            int(got_version),
            datetime.fromisoformat(saved_at) if saved_at else datetime.fromtimestamp(0, UTC),
            source or "",
        )
        with self._lock:
            self._cached = stored
        return stored
