"""Figures from the contact records, in the line's own time zone (issue 20):
by local day, by hour of day and by day of week — offered, answered,
abandoned, missed — the service level (answered within 20 s and within 60 s,
988's standard), dispositions and referrals, and how many counselors the
roster had on call in each hour against the contacts offered then.

Read from the quarter-hour tallies (ivr/contacts/tallies.py), never contact by
contact: a year of contacts is a few thousand small hashes.

A day with no contact is shown empty, not as zero answered out of zero: the
figures say None where there is nothing to divide. Days and hours are the
zone's own, across a DST change too (a local day is 23 or 25 hours then)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from ivr.contacts.days import local_range
from ivr.contacts.records import Contacts
from ivr.contacts.tallies import CORE, SERVICE_LEVEL_SECONDS
from ivr.roster.model import Roster
from ivr.roster.schedule import schedule_of

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOUR = 3600
EPOCH = date(1970, 1, 1)


@dataclass
class Bucket:
    """The contacts of one day, hour or weekday."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0  # gone before anyone answered: hung up waiting, STOP while waiting
    missed: int = 0  # ended with no person: unanswered, voicemail, backup line
    calls: int = 0  # the service level's and the wait's own: calls only
    calls_answered: int = 0
    within: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SERVICE_LEVEL_SECONDS, 0))
    wait_ms: int = 0  # the answered calls' waits, summed

    def add(self, counts: list[int]) -> None:
        """COUNTS: one per counter of tallies.CORE, in its order."""
        offered, answered, abandoned, missed, calls, calls_answered, *within, wait_ms = counts
        self.offered += offered
        self.answered += answered
        self.abandoned += abandoned
        self.missed += missed
        self.calls += calls
        self.calls_answered += calls_answered
        for limit, count in zip(SERVICE_LEVEL_SECONDS, within, strict=True):
            self.within[limit] += count
        self.wait_ms += wait_ms

    def rate(self, part: int) -> float | None:
        """PART of the offered, or None for nothing offered (shown empty)."""
        return part / self.offered if self.offered else None

    def service_level(self, limit: int) -> float | None:
        """The share of calls a person answered within LIMIT seconds (988's
        measure: of every call, answered or not); None with no calls."""
        return self.within[limit] / self.calls if self.calls else None

    @property
    def mean_wait(self) -> float | None:
        """Seconds an answered call waited, on average (None: none answered)."""
        return self.wait_ms / 1000 / self.calls_answered if self.calls_answered else None


@dataclass(frozen=True)
class Report:
    zone: str
    first: date
    last: date
    days: dict[date, Bucket]  # every local day in range, empty ones included
    hours: list[Bucket]  # 0-23, local
    weekdays: list[Bucket]  # Monday first
    by_channel: Counter[str]
    by_language: Counter[str]
    by_counselor: Counter[str]  # contacts each counselor answered
    dispositions: Counter[str]
    referrals: Counter[str]
    risks: Counter[str]
    total: Bucket
    # False while another process recounts the contacts kept before this
    # version's tallies (the first report after an upgrade): figures partial.
    complete: bool = True


def read_report(store: Contacts, zone: str, first: date, last: date) -> Report:
    """The report of FIRST..LAST (local days of ZONE) as the pages and the CLI
    show it: every kept contact counted first (after an upgrade, once)."""
    store.tallied()
    start, end = local_range(zone, first, last)
    core, detail = store.tallies.core_between(start, end), store.tallies.detail_between(start, end)
    report = build(core, detail, zone, first, last)
    return report if store.tallies.current() else replace(report, complete=False)


def _offset(tz: ZoneInfo, moment: int) -> int:
    shift = datetime.fromtimestamp(moment, tz).utcoffset()
    return int(shift.total_seconds()) if shift else 0


def build(
    core: Iterable[tuple[int, str, int]],
    detail: Mapping[str, int],
    zone: str,
    first: date,
    last: date,
) -> Report:
    """The report of FIRST..LAST (local days of ZONE) from the tallies: CORE,
    (quarter start, counter, count) as Tallies.core_between gives them, and
    DETAIL, the range's detail counters (Tallies.detail_between).

    A year is some 35,000 quarters: each is placed in its local day and hour
    by the zone's offset, looked up once per UTC hour, and counted into a
    plain list per (day, hour) cell before the buckets are made."""
    tz = ZoneInfo(zone)
    index = {name: n for n, name in enumerate(CORE)}
    offsets: dict[int, int] = {}
    cells: dict[tuple[int, int], list[int]] = {}
    for quarter, name, count in core:
        position = index.get(name)
        if position is None:
            continue
        utc_hour = quarter - quarter % HOUR
        offset = offsets.get(utc_hour)
        if offset is None:
            # The same offset at both ends of the UTC hour holds for all of
            # it (no zone changes twice in an hour); where it differs (St
            # John's changes at 05:30 UTC), each quarter is looked up.
            offset = _offset(tz, utc_hour)
            if _offset(tz, utc_hour + HOUR - 1) != offset:
                offset = _offset(tz, quarter)
            else:
                offsets[utc_hour] = offset
        local = quarter + offset
        cell = (local // 86400, (local % 86400) // HOUR)  # (days since 1970-01-01, hour)
        counts = cells.get(cell)
        if counts is None:
            counts = cells[cell] = [0] * len(CORE)
        counts[position] += count
    days = {first + timedelta(days=n): Bucket() for n in range((last - first).days + 1)}
    hours = [Bucket() for _ in range(24)]
    weekdays = [Bucket() for _ in range(7)]
    total = Bucket()
    for (epoch_day, hour), counts in cells.items():
        day = EPOCH + timedelta(days=epoch_day)
        if day not in days:
            continue
        for bucket in (days[day], hours[hour], weekdays[day.weekday()], total):
            bucket.add(counts)

    def under(prefix: str) -> Counter[str]:
        return Counter(
            {k[len(prefix) :]: n for k, n in detail.items() if k.startswith(prefix) and n}
        )

    return Report(
        zone, first, last, days, hours, weekdays, under("channel:"), under("language:"),
        under("counselor:"), under("disposition:"), under("referral:"), under("risk:"), total,
    )  # fmt: skip


def local_hours(zone: str, first: date, last: date) -> Iterator[tuple[int, int, int]]:
    """Each local hour of FIRST..LAST: (its hour of day, its first instant,
    the instant after it). Stepped from local midnight, so a zone whose offset
    is not whole hours still gets its own hours; a DST day has 23 or 25."""
    start, end = (int(x) for x in local_range(zone, first, last))
    tz = ZoneInfo(zone)
    for begin in range(start, end, HOUR):
        yield datetime.fromtimestamp(begin, tz).hour, begin, min(begin + HOUR, end)


def hours_seen(zone: str, first: date, last: date) -> list[int]:
    """How many times each local hour of day (0-23) occurs in FIRST..LAST."""
    seen = [0] * 24
    for hour, _, _ in local_hours(zone, first, last):
        seen[hour] += 1
    return seen


def on_call_by_hour(
    on_call_ids: Callable[[float], list[str]],
    boundaries: Callable[[int, int], list[int]],
    zone: str,
    first: date,
    last: date,
) -> list[float | None]:
    """For each local hour of day (0-23), how many counselors the roster has
    on call in it, on average over FIRST..LAST: counselor-hours, summed
    between the instants anyone comes or goes (asked once for the whole
    range: a year is 8,760 hours but a roster changes far less often than
    that), over the times that hour of day occurs. None for an hour of day
    the range never has."""
    start, end = (int(x) for x in local_range(zone, first, last))
    hours = list(local_hours(zone, first, last))
    held = [0.0] * 24
    points = [*boundaries(start, end), end]
    at = 0  # the first local hour not wholly before the segment
    for a, b in pairwise(points):
        people = len(on_call_ids(a))
        while at < len(hours) and hours[at][2] <= a:
            at += 1
        if not people:
            continue
        for hour, begin, finish in hours[at:]:
            if begin >= b:
                break
            held[hour] += people * (min(b, finish) - max(a, begin)) / HOUR
    seen = hours_seen(zone, first, last)
    return [held[h] / seen[h] if seen[h] else None for h in range(24)]


def roster_on_call_by_hour(
    roster: Roster | None, zone: str, first: date, last: date
) -> list[float | None]:
    """Counselors on call in each local hour of day, on average over the
    range, by ROSTER as it stands now (a roster keeps no history); None for
    every hour with no roster."""
    if roster is None:
        return [None] * 24
    schedule = schedule_of(roster)
    return on_call_by_hour(schedule.on_call_ids, schedule.boundaries, zone, first, last)
