"""Figures from contacts in the line's own zone (issue 20): local days across
a DST change, hours of day, the service level, and empty days shown empty."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ivr.contacts.records import Contact
from ivr.contacts.report import build, local_range

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)


def contact(n: int, at: datetime, outcome: str = "answered", waited: float = 10) -> Contact:
    started = at.timestamp()
    answered = started + waited if outcome == "answered" else None
    return Contact(
        id=f"CT-{n:06d}", channel="call", language="en", source=f"call:{n}", started=started,
        answered=answered, ended=started + 120, counselor="alex" if answered else "",
        outcome=outcome, wrapup_due=False, dispositions=("withdrawal",) if answered else (),
    )  # fmt: skip


def test_local_days_across_the_spring_forward_and_hours_in_the_zone() -> None:
    # 2026-03-08: New York springs forward at 02:00 (a 23-hour day).
    found = [
        contact(1, datetime(2026, 3, 7, 23, 30, tzinfo=TZ)),
        contact(2, datetime(2026, 3, 8, 0, 30, tzinfo=TZ), "abandoned"),
        contact(3, datetime(2026, 3, 8, 3, 15, tzinfo=TZ), waited=45),
        contact(4, datetime(2026, 3, 8, 23, 45, tzinfo=TZ), "voicemail"),
        contact(5, datetime(2026, 3, 10, 9, 0, tzinfo=TZ), waited=90),
    ]
    report = build(found, ZONE, date(2026, 3, 7), date(2026, 3, 10))
    assert [b.offered for b in report.days.values()] == [1, 3, 0, 1]
    sunday = report.days[date(2026, 3, 8)]
    assert (sunday.answered, sunday.abandoned, sunday.missed) == (1, 1, 1)
    assert report.days[date(2026, 3, 9)].rate(0) is None  # an empty day is empty, not 0 %
    assert report.hours[3].offered == 1  # 03:15 local, after the jump
    assert report.hours[23].offered == 2
    assert report.weekdays[6].offered == 3  # Sunday
    total = report.total
    assert (total.within[20], total.within[60], total.answered) == (1, 2, 3)
    assert total.service_level(20) == 1 / 5
    assert report.dispositions["withdrawal"] == 3
    start, end = local_range(ZONE, date(2026, 3, 8), date(2026, 3, 8))
    assert end - start == 23 * 3600
