"""Cutting instants into local days, as a wall calendar shows them.

A calendar column is one local day with rows labelled 00:00 to 24:00, so a
stretch of time is drawn at its *wall-clock* minutes since local midnight. Most
days that is plain arithmetic; on the two daylight-saving days it is not:

- When clocks spring forward the day is 23 hours long and its wall clock skips
  an hour. A stretch across the jump is drawn unbroken: nobody can be on call
  at a time that does not exist, so nothing is hidden.
- When clocks fall back the day is 25 hours long and an hour of wall clock
  happens twice. A stretch across it is drawn over the whole of both hours;
  only a stretch that leaves a hole in that hour (from the first 01:30 to the
  second 01:15, say) becomes two pieces.

Days start at the instant `ivr.roster.localtime` gives local midnight, so a
zone that skips midnight itself still gets days that meet end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from ivr.roster.localtime import MINUTES_PER_DAY, wall_instant

HOUR = 3600
_EPOCH_DAY = date(1970, 1, 1)


def _offset(moment: int, zone_info: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(moment, zone_info).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@dataclass(frozen=True)
class Stretch:
    """Part of a day in which the zone's UTC offset does not change."""

    start: int
    end: int
    offset: int  # seconds east of UTC


@dataclass(frozen=True)
class LocalDay:
    day: date
    start: int  # epoch seconds of local midnight
    end: int  # epoch seconds of the next local midnight
    stretches: tuple[Stretch, ...]

    @property
    def minutes(self) -> int:
        """How long the day really is: 1440, or 1380 and 1500 when clocks change."""
        return (self.end - self.start) // 60

    def wall_minutes(self, moment: int, stretch: Stretch, *, ceiling: bool = False) -> int:
        """Minutes since local midnight on the wall clock, 0..1440."""
        seconds = moment + stretch.offset - (self.day - _EPOCH_DAY).days * 86400
        minutes = -(-seconds // 60) if ceiling else seconds // 60
        return min(max(minutes, 0), MINUTES_PER_DAY)

    def minute_of(self, moment: int) -> int | None:
        """Where `moment` falls on this day's wall clock, None if on another day."""
        for stretch in self.stretches:
            if stretch.start <= moment < stretch.end:
                return self.wall_minutes(moment, stretch)
        return None


@dataclass(frozen=True)
class Piece:
    """The part of a stretch of time that one day's column shows."""

    index: int  # which day
    start: int  # wall-clock minutes since local midnight
    end: int
    from_before: bool  # the stretch began on an earlier day
    goes_on: bool  # the stretch goes on into the next day


def local_days(first: date, count: int, zone_info: ZoneInfo) -> tuple[LocalDay, ...]:
    days = []
    for n in range(count):
        day = first + timedelta(days=n)
        start = wall_instant(day, 0, zone_info)
        end = wall_instant(day, MINUTES_PER_DAY, zone_info)
        days.append(LocalDay(day, start, end, _stretches(start, end, zone_info)))
    return tuple(days)


def _stretches(start: int, end: int, zone_info: ZoneInfo) -> tuple[Stretch, ...]:
    """[start, end) split where the UTC offset changes, found by probing each
    hour and then bisecting to the second (zoneinfo lists no transitions)."""
    probes = [*range(start, end, HOUR), end - 1]
    found: list[Stretch] = []
    begin, offset = start, _offset(start, zone_info)
    for low, high in pairwise(probes):
        if _offset(high, zone_info) == offset:
            continue
        while high - low > 1:  # offset(low) is the old one, offset(high) the new
            middle = (low + high) // 2
            if _offset(middle, zone_info) == offset:
                low = middle
            else:
                high = middle
        found.append(Stretch(begin, high, offset))
        begin, offset = high, _offset(high, zone_info)
    found.append(Stretch(begin, end, offset))
    return tuple(found)


def cut(start: int, end: int, days: tuple[LocalDay, ...]) -> list[Piece]:
    """The epoch-second stretch [start, end) as pieces of the days it touches."""
    pieces: list[Piece] = []
    for index, day in enumerate(days):
        if start >= day.end or end <= day.start:
            continue
        spans: list[tuple[int, int]] = []
        for stretch in day.stretches:
            begin, finish = max(start, stretch.start), min(end, stretch.end)
            if begin >= finish:
                continue
            wall = (
                day.wall_minutes(begin, stretch),
                day.wall_minutes(finish, stretch, ceiling=True),
            )
            if spans and spans[-1][0] <= wall[1]:  # meets or overlaps on the wall: one piece
                last = spans.pop()
                wall = (min(last[0], wall[0]), max(last[1], wall[1]))
            spans.append(wall)
        spans = [(a, b) for a, b in spans if a < b]
        for n, (a, b) in enumerate(spans):
            first, final = n == 0, n == len(spans) - 1
            pieces.append(Piece(index, a, b, first and start < day.start, final and end > day.end))
    return pieces
