"""The line's daily figures count by its own local day (`HELPLINE_TIMEZONE`,
issue 20), not the UTC one: a call answered at 23:30 in New York counts on
that day, though it is already the next in UTC, and the Now board's "answered
today" reads that local day. A day across a DST change is one key still."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import redis

from ivr.operators.desk import open_desk
from ivr.platform.config import Settings
from ivr.routing.figures import Figures, day_of


def _local(settings: Settings, day: date, hour: int, minute: int) -> datetime:
    """A wall-clock time on DAY in the line's zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(settings.timezone))


def test_a_call_answered_at_2330_local_counts_on_that_local_day(
    redis_client: redis.Redis, settings: Settings
) -> None:
    zone = settings.timezone
    late = _local(settings, date(2026, 3, 10), 23, 30)
    assert late.astimezone(UTC).date() == date(2026, 3, 11), "already the next day in UTC"
    assert day_of(late.timestamp(), zone_name=zone) == "2026-03-10"

    figures = Figures(redis_client, zone)
    figures.offered(at=late.timestamp() - 20)
    figures.answered(20.0, "alex", at=late.timestamp())
    counted = figures.day("2026-03-10")
    assert (counted.offered, counted.answered, counted.answered_by) == (1, 1, {"alex": 1})
    assert figures.day("2026-03-11").answered == 0  # nothing on the UTC day

    # The Now board, as the line's desk builds it (open_desk passes the zone).
    overview = open_desk(redis_client, settings).overview
    board = overview.board(None, at=_local(settings, date(2026, 3, 10), 23, 45))
    assert board.zone == zone
    assert (board.today.day, board.today.answered, board.today.offered) == ("2026-03-10", 1, 1)
    assert board.today.answer_rate == 1.0
    # Past local midnight (04:05 UTC on the 11th) it is a new day, with nothing yet.
    after_midnight = overview.board(None, at=_local(settings, date(2026, 3, 11), 0, 5))
    assert (after_midnight.today.day, after_midnight.today.answered) == ("2026-03-11", 0)
    # The figures page's days are the same local dates.
    last_two = overview.figures(2, until=date(2026, 3, 11))
    assert [(d.day, d.answered) for d in last_two] == [("2026-03-10", 1), ("2026-03-11", 0)]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)],  # US DST starts; ends
)
def test_a_local_day_across_a_dst_change_is_one_key(
    redis_client: redis.Redis, settings: Settings, day: date, hours: int
) -> None:
    assert settings.timezone == "America/New_York"  # the dates above are its changes
    first, last = _local(settings, day, 0, 10), _local(settings, day, 23, 50)
    elapsed = last.astimezone(UTC) - first.astimezone(UTC)
    assert elapsed.total_seconds() == (hours * 60 - 20) * 60  # the day's odd length
    figures = Figures(redis_client, settings.timezone)
    for moment in (first, last):
        figures.offered(at=moment.timestamp())
        figures.gave_up(at=moment.timestamp())
    assert redis_client.keys("stats:*") == [f"stats:{day.isoformat()}".encode()]
    days = open_desk(redis_client, settings).overview.figures(3, until=day)
    assert [(d.day, d.offered, d.unanswered) for d in days][-1] == (day.isoformat(), 2, 2)
    assert [d.offered for d in days[:-1]] == [0, 0]
