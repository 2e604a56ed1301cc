"""Wall-clock times in named zones, turned into instants the same way
everywhere, so that shifts which meet on paper meet in time.

The two hard days of the year:

- When clocks fall back, a wall time happens twice. It means its *first*
  occurrence. A shift ending at 01:30 ends at the first 01:30, and one starting
  at 01:30 starts there and covers the repeated hour; a shift spanning the
  change simply lasts an hour longer.
- When clocks spring forward, a skipped wall time (02:30) means the instant
  clocks jump (03:00 after the jump). A shift spanning the change is an hour
  shorter but has no hole; a shift ending at 02:30 meets one starting at 02:30.

Both rules keep the mapping from wall time to instant monotonic: a later wall
time is never an earlier instant, so no shift ever ends before it starts.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

MINUTES_PER_DAY = 24 * 60
"""A day of wall-clock minutes; as a time of day, "24:00" (a shift's end only)."""

_CLOCK = re.compile(r"(\d{2}):(\d{2})")


@cache
def zone(name: str) -> ZoneInfo:
    """A known IANA zone (KeyError otherwise: no `localtime`, no file paths)."""
    if name not in _known_zones():
        raise KeyError(name)
    return ZoneInfo(name)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_clock(text: str, allow_24: bool) -> int | None:
    """Minutes since midnight of "HH:MM", or None if malformed."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if allow_24 and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_local(text: str) -> datetime | None:
    """A naive local "YYYY-MM-DDTHH:MM" (whole seconds allowed, no offset), or None."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None or parsed.microsecond or ("T" not in text and " " not in text):
        return None
    return parsed


def format_local(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def instant(local: datetime, zone_info: ZoneInfo) -> int:
    """Epoch seconds of a naive wall-clock time in a zone, by the rules above."""
    first = local.replace(tzinfo=zone_info, fold=0)
    second = local.replace(tzinfo=zone_info, fold=1)
    early, late = int(first.timestamp()), int(second.timestamp())
    if early <= late:
        return early  # an ordinary time, or the first of a repeated one
    # Skipped: fold=1 reads it with the offset after the jump (`late`, an
    # instant before the jump), fold=0 with the offset before it (`early`, an
    # instant after). The jump itself lies between; find it to the second.
    after = datetime.fromtimestamp(early, zone_info).utcoffset()
    low, high = late, early
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone_info).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def wall_instant(day: date, minutes: int, zone_info: ZoneInfo) -> int:
    """Epoch seconds of `minutes` after local midnight of `day` (1440 is the
    next midnight), by the rules above."""
    local = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return instant(local, zone_info)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
