"""The on-call index: a roster's weekly shifts laid out as UTC intervals.

Recurring local shifts become different UTC intervals from week to week (a
daylight-saving change moves them by an hour), so the index is built per UTC
week, lazily, and the last few weeks are kept. A week's table holds every
interval touching it — shift occurrences and overrides — and files each one
into the hour buckets it overlaps (168 per week). In each bucket, the intervals
covering the whole hour are folded in advance into sets of ids; only those
starting or ending within the hour are kept as intervals. Looking up an
instant reads one bucket, so it costs about the number of people on call plus
the comings and goings of that hour, however many shifts the roster has.
Building a week walks each zone's local days once and only the shifts of that
weekday, and turns each distinct (zone, day, wall time) into an instant once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from ivr.roster.localtime import instant, wall_instant, zone
from ivr.roster.model import Roster, Shift

HOUR = 3600
WEEK = 7 * 24 * HOUR
EPOCH_MONDAY = 4 * 24 * HOUR  # 1970-01-05T00:00Z, the first Monday after the epoch
WEEKS_KEPT = 8


class Span(NamedTuple):
    """A half-open interval [start, end) of epoch seconds with someone on it."""

    start: int
    end: int
    counselor: str
    override: bool = False
    replaces: frozenset[str] = frozenset()


class Occurrence(NamedTuple):
    """One day's occurrence of a weekly shift, as [start, end) epoch seconds."""

    shift: Shift
    start: int
    end: int


class Bucket(NamedTuple):
    """One hour of a week: who is on for all of it, and the rest as intervals."""

    on: frozenset[str]
    covering: frozenset[str]
    off: frozenset[str]
    partial: tuple[Span, ...]


@dataclass(frozen=True)
class WeekTable:
    start: int
    spans: tuple[Span, ...]
    buckets: tuple[Bucket, ...]


def week_of(moment: float) -> int:
    return int((moment - EPOCH_MONDAY) // WEEK)


class Schedule:
    """Who is on call when, for one (immutable) roster. Thread-safe."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.active = frozenset(c.id for c in roster.counselors if c.active)
        self.rank = {c.id: n for n, c in enumerate(roster.routing_order)}
        self.by_zone: dict[str, list[list[Shift]]] = {}
        for shift in roster.shifts:
            weekdays = self.by_zone.setdefault(shift.timezone, [[] for _ in range(7)])
            for day in shift.days:
                weekdays[day].append(shift)
        self.overrides = tuple(
            Span(
                instant(o.start, zone(o.timezone)),
                instant(o.end, zone(o.timezone)),
                o.counselor,
                override=True,
                replaces=frozenset(o.replaces),
            )
            for o in roster.overrides
        )
        self._weeks: OrderedDict[int, WeekTable] = OrderedDict()
        self._lock = threading.Lock()

    def on_call_ids(self, moment: float) -> list[str]:
        """Ids of the active counselors on call at epoch second `moment`, in
        routing order: those on shift, less anyone an override replaces, plus
        everyone an override puts on."""
        table = self.week(week_of(moment))
        bucket = table.buckets[int((moment - table.start) // HOUR)]
        on, covering, off = set(bucket.on), set(bucket.covering), set(bucket.off)
        for span in bucket.partial:
            if span.start <= moment < span.end:
                if span.override:
                    covering.add(span.counselor)
                    off |= span.replaces
                else:
                    on.add(span.counselor)
        return sorted(((on - off) | covering) & self.active, key=self.rank.__getitem__)

    def boundaries(self, start: int, end: int) -> list[int]:
        """Every instant in [start, end) at which someone comes or goes, with
        `start` itself: between two of them, who is on call does not change."""
        points = {start}
        for week in range(week_of(start), week_of(end - 1) + 1):
            for span in self.week(week).spans:
                points.update(p for p in (span.start, span.end) if start < p < end)
        return sorted(points)

    def occurrences(self, start: int, end: int) -> list[Occurrence]:
        """Every shift occurrence touching [start, end), by the same rules as
        the index (for pages that show shifts, not just who is on)."""
        found: list[Occurrence] = []
        for zone_name, weekdays in self.by_zone.items():
            found.extend(_occurrences(zone_name, weekdays, start, end))
        return found

    def week(self, index: int) -> WeekTable:
        with self._lock:
            table = self._weeks.get(index)
            if table is not None:
                self._weeks.move_to_end(index)
                return table
        table = self._build(index)
        with self._lock:
            self._weeks[index] = table
            while len(self._weeks) > WEEKS_KEPT:
                self._weeks.popitem(last=False)
        return table

    def _build(self, index: int) -> WeekTable:
        week_start = EPOCH_MONDAY + index * WEEK
        week_end = week_start + WEEK
        spans = [o for o in self.overrides if o.start < week_end and o.end > week_start]
        spans.extend(
            Span(o.start, o.end, o.shift.counselor) for o in self.occurrences(week_start, week_end)
        )
        hours = WEEK // HOUR
        whole: list[list[Span]] = [[] for _ in range(hours)]
        partial: list[list[Span]] = [[] for _ in range(hours)]
        for span in spans:
            first = max(0, (span.start - week_start) // HOUR)
            last = min(hours - 1, (span.end - 1 - week_start) // HOUR)
            for hour in range(first, last + 1):
                begin = week_start + hour * HOUR
                covers = span.start <= begin and span.end >= begin + HOUR
                (whole if covers else partial)[hour].append(span)
        buckets = tuple(_bucket(w, p) for w, p in zip(whole, partial, strict=True))
        return WeekTable(week_start, tuple(spans), buckets)


# The attribute of a roster its index is kept in (see `schedule_of`).
_KEPT = "_schedule"
_building = threading.Lock()


def schedule_of(roster: Roster) -> Schedule:
    """The roster's on-call index, built once per roster on first use.

    Kept in the roster's own `__dict__`, as `functools.cached_property` keeps
    what it computes: it lives as long as the roster (which never changes, so
    the index never goes stale), and the roster, a plain value, need not know
    this module.
    """
    kept = roster.__dict__.get(_KEPT)
    if isinstance(kept, Schedule):
        return kept
    with _building:
        kept = roster.__dict__.get(_KEPT)
        if not isinstance(kept, Schedule):
            kept = roster.__dict__[_KEPT] = Schedule(roster)
        return kept


def _bucket(whole: list[Span], partial: list[Span]) -> Bucket:
    return Bucket(
        frozenset(s.counselor for s in whole if not s.override),
        frozenset(s.counselor for s in whole if s.override),
        frozenset().union(*(s.replaces for s in whole if s.override)),
        tuple(partial),
    )


def _occurrences(
    zone_name: str, weekdays: list[list[Shift]], week_start: int, week_end: int
) -> list[Occurrence]:
    """The occurrences of one zone's shifts that touch [week_start, week_end).

    An occurrence lasts at most a (long) day, so the local days to walk are
    from the day before the range's first local day to its last local day.
    """
    zone_info = zone(zone_name)
    instants: dict[tuple[date, int], int] = {}

    def at(day: date, minutes: int) -> int:
        key = (day, minutes)
        if key not in instants:
            instants[key] = wall_instant(day, minutes, zone_info)
        return instants[key]

    day = datetime.fromtimestamp(week_start, zone_info).date() - timedelta(days=1)
    last = datetime.fromtimestamp(week_end, zone_info).date()
    found: list[Occurrence] = []
    while day <= last:
        following = day + timedelta(days=1)
        for shift in weekdays[day.weekday()]:
            if not shift.runs_on(day):
                continue
            start = at(day, shift.start)
            end = at(following, shift.end) if shift.crosses_midnight else at(day, shift.end)
            # A shift wholly inside a skipped hour has no instants at all.
            if start < end and start < week_end and end > week_start:
                found.append(Occurrence(shift, start, end))
        day = following
    return found
