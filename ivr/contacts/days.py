"""The days a report or the contact log is asked for (issue 20): read from
what a person typed (YYYY-MM-DD, YYYY-MM), within the years the line can
mean (2000-2100: anything else is a slip, and 9999-12-31 has no next day),
and turned into the instants of the line's own local days."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
REPORT_DAYS = 30  # a report's range when none is asked for: the last month or so
LONGEST_REPORT_DAYS = 400  # the longest range a report takes: a year and a bit


def read_day(raw: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    """RAW's day NAME (YYYY-MM-DD, from EARLIEST to LATEST); None when not
    given, or when bad, with a message under NAME in ERRORS. The log's and
    the reports' days are read by this alone."""
    value = raw.get(name, "") or ""
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        errors[name] = f"{name}: write a date as YYYY-MM-DD"
    elif not EARLIEST <= day <= LATEST:
        errors[name] = f"{name}: a day from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
        day = None
    return day


def read_month(raw: str) -> tuple[date, date] | None:
    """The first and last day of the month RAW names (YYYY-MM, 2000-01 to
    2100-12); None for anything else."""
    found = _MONTH.fullmatch(raw)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or not EARLIEST.year <= year <= LATEST.year:
        return None
    return month_days(year, month)


def month_days(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def local_range(zone: str, first: date, last: date) -> tuple[float, float]:
    """The instants from FIRST's local midnight to the one after LAST."""
    tz = ZoneInfo(zone)
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def read_report_days(raw: Mapping[str, str], today: date) -> tuple[date, date, dict[str, str]]:
    """The days a report is asked for (`from`, `to`): the REPORT_DAYS up to
    `to` (TODAY if not given) unless `from` says otherwise, at most
    LONGEST_REPORT_DAYS apart. With a bad field: the default range, and a
    message under the field's name."""
    errors: dict[str, str] = {}
    first = read_day(raw, "from", errors)
    last = read_day(raw, "to", errors) or today
    first = first or last - timedelta(days=REPORT_DAYS - 1)
    if not errors and (last < first or (last - first).days > LONGEST_REPORT_DAYS):
        errors["to"] = f"to: on or after from, and at most {LONGEST_REPORT_DAYS} days later"
    if errors:
        first, last = today - timedelta(days=REPORT_DAYS - 1), today
    return first, last, errors
