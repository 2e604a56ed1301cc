"""Figures from the contact records, in the line's own time zone (issue 20):
by local day, by hour of day and by day of week — offered, answered,
abandoned, missed — the service level (answered within 20 s and within 60 s,
988's standard), and dispositions and referrals.

A day with no contact is shown empty, not as zero answered out of zero: the
figures say None where there is nothing to divide. Days and hours are the
zone's own, across a DST change too (a local day is 23 or 25 hours then)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.contacts.records import Contact

SERVICE_LEVEL_SECONDS = (20, 60)  # 988's: the share answered within these
ANSWERED = ("answered", "conversation")
ABANDONED = ("abandoned",)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Bucket:
    """The contacts of one day, hour or weekday."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    missed: int = 0  # ended with no person: unanswered, voicemail, backup line, opted out
    within: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SERVICE_LEVEL_SECONDS, 0))
    waits: list[float] = field(default_factory=list)

    def add(self, contact: Contact) -> None:
        self.offered += 1
        if contact.outcome in ANSWERED:
            self.answered += 1
            waited = contact.waited_seconds or 0.0
            self.waits.append(waited)
            for limit in SERVICE_LEVEL_SECONDS:
                if waited <= limit:
                    self.within[limit] += 1
        elif contact.outcome in ABANDONED:
            self.abandoned += 1
        else:
            self.missed += 1

    def rate(self, part: int) -> float | None:
        """PART of the offered, or None for nothing offered (shown empty)."""
        return part / self.offered if self.offered else None

    def service_level(self, limit: int) -> float | None:
        return self.rate(self.within[limit])


@dataclass(frozen=True)
class Report:
    zone: str
    first: date
    last: date
    days: dict[date, Bucket]  # every local day in range, empty ones included
    hours: list[Bucket]  # 0-23, local
    weekdays: list[Bucket]  # Monday first
    by_channel: Counter[str]
    dispositions: Counter[str]
    referrals: Counter[str]
    total: Bucket


def local_range(zone: str, first: date, last: date) -> tuple[float, float]:
    """The instants from FIRST's local midnight to the one after LAST."""
    tz = ZoneInfo(zone)
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def build(contacts: Iterable[Contact], zone: str, first: date, last: date) -> Report:
    tz = ZoneInfo(zone)
    days = {first + timedelta(days=n): Bucket() for n in range((last - first).days + 1)}
    hours = [Bucket() for _ in range(24)]
    weekdays = [Bucket() for _ in range(7)]
    total = Bucket()
    by_channel: Counter[str] = Counter()
    dispositions: Counter[str] = Counter()
    referrals: Counter[str] = Counter()
    for contact in contacts:
        local = datetime.fromtimestamp(contact.started, tz)
        if local.date() not in days:
            continue
        for bucket in (days[local.date()], hours[local.hour], weekdays[local.weekday()], total):
            bucket.add(contact)
        by_channel[contact.channel] += 1
        dispositions.update(contact.dispositions)
        referrals.update(contact.referrals)
    return Report(
        zone, first, last, days, hours, weekdays, by_channel, dispositions, referrals, total
    )
