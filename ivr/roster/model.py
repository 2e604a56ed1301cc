"""The roster as typed, immutable values: who the counselors are, when they
work, who covers for whom, and how much cover the line needs.

Times are kept as the roster file says them (local wall-clock times in named
zones); turning them into instants is `ivr.roster.schedule`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as written in roster files, in `date.weekday()` order."""

COUNSELOR, SUPERVISOR = "counselor", "supervisor"
ROLES = (COUNSELOR, SUPERVISOR)
"""A counselor is rung for callers and alerted first; a supervisor is the
escalation ladder's second step (urgent work no counselor took), never rung
for an ordinary caller."""


@dataclass(frozen=True)
class Counselor:
    id: str
    name: str
    phone: str
    """E.164, validated on import. Never log it; `ivr.platform.privacy.mask` for people."""
    languages: tuple[str, ...]
    active: bool = True
    priority: int | None = None
    """Lower rings first; counselors without one come after, in file order."""
    role: str = COUNSELOR
    """COUNSELOR or SUPERVISOR (ROLES)."""

    @property
    def supervises(self) -> bool:
        return self.role == SUPERVISOR

    def speaks(self, language: str) -> bool:
        return language in self.languages


@dataclass(frozen=True)
class Shift:
    """A weekly shift: on each of `days`, from `start` to `end` local time.

    Minutes since local midnight; `end` is 1..1440 (1440 is "24:00"), and an
    `end` at or before `start` means the next day. An occurrence belongs to the
    local date it starts on, and `valid_from`/`valid_until` (inclusive) are
    checked against that date.

    `id` is stable across edits, exports and imports, so the pages, the API
    and the CLI can name one shift among several alike ("" only for a shift
    built in code; the parser gives every shift one).
    """

    counselor: str
    days: tuple[int, ...]
    start: int
    end: int
    timezone: str
    valid_from: date | None = None
    valid_until: date | None = None
    id: str = ""

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def runs_on(self, day: date) -> bool:
        if day.weekday() not in self.days:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True)
class Override:
    """A dated window (local wall-clock times in `timezone`) in which
    `counselor` is on call, and everyone in `replaces` is off their shifts.
    `id` is stable like a shift's."""

    counselor: str
    start: datetime
    end: datetime
    timezone: str
    replaces: tuple[str, ...] = ()
    note: str | None = None
    id: str = ""


DEFAULT_LANGUAGE_MINIMUMS: Mapping[str, int] = {"es": 1}


@dataclass(frozen=True)
class Coverage:
    """How many active counselors must be on call at every instant."""

    minimum: int = 1
    languages: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LANGUAGE_MINIMUMS))
    # Supervisors on call at every instant: 988's imminent-risk practice has one
    # reachable at every hour, for the urgent work no counselor took.
    supervisors: int = 1


@dataclass(frozen=True)
class Roster:
    timezone: str
    """The file's default zone, and the zone people read times in."""
    counselors: tuple[Counselor, ...] = ()
    shifts: tuple[Shift, ...] = ()
    overrides: tuple[Override, ...] = ()
    coverage: Coverage = field(default_factory=Coverage)

    @cached_property
    def by_id(self) -> Mapping[str, Counselor]:
        return {c.id: c for c in self.counselors}

    @cached_property
    def by_phone(self) -> Mapping[str, Counselor]:
        """Only numbers found here may ever be dialed as counselors."""
        return {c.phone: c for c in self.counselors}

    @cached_property
    def routing_order(self) -> tuple[Counselor, ...]:
        """Everyone, in the order they are rung when on call together."""
        ranked = sorted(
            enumerate(self.counselors),
            key=lambda pair: (pair[1].priority is None, pair[1].priority or 0, pair[0]),
        )
        return tuple(counselor for _, counselor in ranked)
