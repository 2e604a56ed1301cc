"""The Roster page's week: blocks at the wall-clock minutes of the viewing zone,
whatever zone a shift is written in and whatever the clocks do, with overrides,
the shifts they take away, and the line's gaps day by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.roster import Roster, load_roster_file, who_is_on_call
from ivr.roster.oncall import supervisors_on_call
from ivr.web.admin.calendar import Block, GapBlock, WeekView, days_text, week_containing, week_view
from tests.roster.conftest import EXAMPLE, roster_from

NEW_YORK = ZoneInfo("America/New_York")
SPRING_WEEK = date(2026, 3, 2)  # its Sunday, 8 March, is 23 hours long in New York
FALL_WEEK = date(2026, 10, 26)  # its Sunday, 1 November, is 25 hours long

NIGHTS = """
timezone: America/New_York
coverage: {minimum: 0, languages: {}}
counselors:
  - {id: nia, name: Nia, phone: "+12025550111", languages: [en]}
  - {id: pat, name: Pat, phone: "+16025550112", languages: [en]}
  - {id: old, name: Old, phone: "+12025550113", languages: [en], active: false}
shifts:
  - {id: nia-nights, counselor: nia, days: [mon], start: "22:00", end: "06:00"}
  - id: pat-nights
    counselor: pat
    days: [mon, sat]
    start: "22:00"
    end: "06:00"
    timezone: America/Phoenix
  - {id: old-days, counselor: old, days: [mon], start: "09:00", end: "17:00"}
"""


def spans(view: WeekView, counselor: str) -> list[list[tuple[int, int, str, str]]]:
    """Each day's blocks of one counselor as (start, end, kind, source)."""
    row = next(r for r in view.rows if r.counselor.id == counselor)
    return [[(b.start, b.end, b.kind, b.source) for b in day] for day in row.days]


def test_a_week_is_seven_local_days_with_a_row_per_active_counselor(tmp_path: Path) -> None:
    view = week_view(roster_from(NIGHTS, tmp_path), date(2026, 7, 13), "America/New_York")
    assert [d.date for d in view.days] == [date(2026, 7, 13) + timedelta(n) for n in range(7)]
    assert [d.minutes for d in view.days] == [1440] * 7
    assert [r.counselor.id for r in view.rows] == ["nia", "pat"]  # old is inactive
    assert all(len(r.days) == 7 for r in view.rows)


def test_an_overnight_shift_is_split_at_midnight_and_says_so(tmp_path: Path) -> None:
    view = week_view(roster_from(NIGHTS, tmp_path), date(2026, 7, 13), "America/New_York")
    row = next(r for r in view.rows if r.counselor.id == "nia")
    monday, tuesday = row.days[0], row.days[1]
    assert monday == (
        Block(1320, 1440, "shift", "nia-nights", "mon 22:00–06:00 America/New_York", goes_on=True),
    )
    assert tuesday == (
        Block(0, 360, "shift", "nia-nights", "mon 22:00–06:00 America/New_York", from_before=True),
    )
    assert all(day == () for day in row.days[2:])


@pytest.mark.parametrize(
    ("week", "tuesday", "sunday"),
    [
        # Phoenix keeps standard time: 3 hours behind New York in summer...
        (date(2026, 7, 13), [(60, 540)], [(60, 540)]),
        # ...and 2 in winter, when the shift starts exactly at New York's midnight.
        (date(2026, 1, 12), [(0, 480)], [(0, 480)]),
    ],
)
def test_a_shift_in_another_zone_is_shown_at_the_viewers_times(
    tmp_path: Path, week: date, tuesday: list[tuple[int, int]], sunday: list[tuple[int, int]]
) -> None:
    found = spans(week_view(roster_from(NIGHTS, tmp_path), week, "America/New_York"), "pat")
    assert [(s, e) for s, e, _, _ in found[1]] == tuesday  # Monday's night, Phoenix time
    assert [(s, e) for s, e, _, _ in found[6]] == sunday  # Saturday's night
    assert found[0] == []  # it starts on Monday in Phoenix, but Tuesday in New York


def test_the_same_week_seen_from_phoenix_shows_shifts_as_written(tmp_path: Path) -> None:
    found = spans(
        week_view(roster_from(NIGHTS, tmp_path), date(2026, 7, 13), "America/Phoenix"), "pat"
    )
    assert found[0] == [(1320, 1440, "shift", "pat-nights")]
    assert found[1] == [(0, 360, "shift", "pat-nights")]


def test_spring_forward_day_is_23_hours_and_blocks_keep_their_wall_times(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        coverage: {minimum: 0, languages: {}}
        counselors:
          - {id: ana, name: Ana, phone: "+12025550111", languages: [en]}
          - {id: pat, name: Pat, phone: "+16025550112", languages: [en]}
        shifts:
          - {id: early, counselor: ana, days: [sun], start: "01:00", end: "04:00"}
          - id: night
            counselor: pat
            days: [sat]
            start: "22:00"
            end: "06:00"
            timezone: America/Phoenix
        """,
        tmp_path,
    )
    view = week_view(roster, SPRING_WEEK, "America/New_York")
    assert [d.minutes for d in view.days] == [1440] * 6 + [1380]
    # 01:00-04:00 is two hours of real time, drawn unbroken over the hour that never was.
    assert spans(view, "ana")[6] == [(60, 240, "shift", "early")]
    # 22:00-06:00 in Phoenix is 8 hours; New York's clock moves 9 (00:00 EST to 09:00 EDT).
    assert spans(view, "pat")[6] == [(0, 540, "shift", "night")]


def test_fall_back_day_is_25_hours_and_the_repeated_hour_is_drawn_once(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        coverage: {minimum: 0, languages: {}}
        counselors:
          - {id: ana, name: Ana, phone: "+12025550111", languages: [en]}
          - {id: pat, name: Pat, phone: "+16025550112", languages: [en]}
        shifts:
          - {id: early, counselor: ana, days: [sun], start: "00:30", end: "03:00"}
          - id: short
            counselor: pat
            days: [sat]
            start: "22:30"
            end: "23:15"
            timezone: America/Phoenix
        """,
        tmp_path,
    )
    view = week_view(roster, FALL_WEEK, "America/New_York")
    assert [d.minutes for d in view.days] == [1440] * 6 + [1500]
    assert spans(view, "ana")[6] == [(30, 180, "shift", "early")]
    # 05:30-06:15 UTC: from the first 01:30 (EDT) to the second 01:15 (EST). On the
    # wall that is 01:30-02:00 and 01:00-01:15, not one block.
    assert spans(view, "pat")[6] == [(60, 75, "shift", "short"), (90, 120, "shift", "short")]


def test_an_override_shows_and_takes_away_the_shifts_it_replaces(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        coverage: {minimum: 0, languages: {}}
        counselors:
          - {id: maria, name: María, phone: "+12025550111", languages: [en, es]}
          - {id: ana, name: Ana, phone: "+12025550112", languages: [en, es]}
        shifts:
          - id: evenings
            counselor: ana
            days: [mon, tue, wed, thu, fri]
            start: "16:00"
            end: "24:00"
        overrides:
          - id: christmas
            counselor: maria
            start: "2026-12-24T18:00"
            end: "2026-12-25T08:00"
            replaces: [ana]
            note: Christmas Eve
        """,
        tmp_path,
    )
    view = week_view(roster, date(2026, 12, 21), "America/New_York")
    ana = next(r for r in view.rows if r.counselor.id == "ana")
    thursday = ana.days[3]
    assert [(b.start, b.end, b.kind, b.source, b.by) for b in thursday] == [
        (960, 1080, "shift", "evenings", ""),
        (1080, 1440, "off", "evenings", "christmas"),
    ]
    assert "María covers" in thursday[1].label
    assert [(b.start, b.end, b.kind) for b in ana.days[4]] == [(960, 1440, "shift")]
    assert spans(view, "maria")[3:5] == [
        [(1080, 1440, "override", "christmas")],
        [(0, 480, "override", "christmas")],
    ]
    maria = next(r for r in view.rows if r.counselor.id == "maria")
    assert maria.days[3][0].goes_on
    assert maria.days[4][0].from_before
    assert maria.days[3][0].label.endswith("instead of ana: Christmas Eve")


WEEKDAYS = """
timezone: America/New_York
counselors:
  - {id: ana, name: Ana, phone: "+12025550111", languages: [en, es]}
  - {id: bo, name: Bo, phone: "+12025550112", languages: [en]}
shifts:
  - {counselor: ana, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
  - {counselor: bo, days: [mon, tue, wed, thu, fri], start: "12:00", end: "24:00"}
"""


def test_gaps_are_clipped_to_each_local_day_per_requirement(tmp_path: Path) -> None:
    view = week_view(roster_from(WEEKDAYS, tmp_path), date(2026, 7, 13), "America/New_York")
    monday, saturday, sunday = view.days[0], view.days[5], view.days[6]
    # The weekend's gap began the Friday before the week: it starts at the week's start.
    assert monday.gaps == (
        GapBlock(0, 540, "overall", 1, 0),
        GapBlock(0, 540, "es", 1, 0),
        GapBlock(0, 1440, "supervisors", 1, 0),  # this roster has no supervisor
        GapBlock(1020, 1440, "es", 1, 0),
    )
    whole_day = (
        GapBlock(0, 1440, "overall", 1, 0),
        GapBlock(0, 1440, "es", 1, 0),
        GapBlock(0, 1440, "supervisors", 1, 0),
    )
    assert saturday.gaps == whole_day
    assert sunday.gaps == whole_day  # and it goes on past the week's end


def test_gaps_follow_the_viewing_zone(tmp_path: Path) -> None:
    view = week_view(roster_from(WEEKDAYS, tmp_path), date(2026, 7, 13), "America/Los_Angeles")
    # Monday 00:00-09:00 New York is Sunday 21:00 to Monday 06:00 in Los Angeles.
    assert view.days[0].gaps[0] == GapBlock(0, 360, "overall", 1, 0)


def test_the_example_roster_has_no_gaps_in_either_daylight_saving_week() -> None:
    roster = load_roster_file(EXAMPLE)
    for week in (SPRING_WEEK, FALL_WEEK):
        assert all(day.gaps == () for day in week_view(roster, week, "America/New_York").days)


@pytest.mark.parametrize("week", [SPRING_WEEK, FALL_WEEK, date(2026, 12, 21)])
@pytest.mark.parametrize("zone_name", ["America/New_York", "Europe/Madrid", "America/Phoenix"])
def test_the_calendar_agrees_with_who_is_on_call(week: date, zone_name: str) -> None:
    """Every quarter hour of the week: those with a shift or override block at
    that wall-clock minute are exactly those the router would ring."""
    roster = load_roster_file(EXAMPLE)
    view = week_view(roster, week, zone_name)
    local = ZoneInfo(zone_name)
    moment = datetime(week.year, week.month, week.day, tzinfo=local).astimezone(UTC)
    end = moment + timedelta(days=7)
    while moment < end:
        here = moment.astimezone(local)
        index = (here.date() - week).days
        minute = here.hour * 60 + here.minute
        if 0 <= index < 7 and not _repeated(here):
            shown = {
                row.counselor.id
                for row in view.rows
                for block in row.days[index]
                if block.kind != "off" and block.start <= minute < block.end
            }
            on_call = [*who_is_on_call(roster, moment), *supervisors_on_call(roster, moment)]
            assert shown == {c.id for c in on_call}, here
        moment += timedelta(minutes=15)


def _repeated(here: datetime) -> bool:
    """In the hour a fall-back repeats, one wall minute is two instants."""
    other = here.replace(fold=1 - here.fold)
    return other.utcoffset() != here.utcoffset()


def test_now_is_placed_on_its_day_and_minute(tmp_path: Path) -> None:
    roster = roster_from(NIGHTS, tmp_path)
    now = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # Sunday 11:00 EDT, after the jump
    assert week_view(roster, SPRING_WEEK, "America/New_York", now).now == (6, 660)
    assert week_view(roster, SPRING_WEEK, "America/New_York").now is None
    assert week_view(roster, date(2026, 3, 9), "America/New_York", now).now is None


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        week_view(Roster("America/New_York"), SPRING_WEEK, "Mars/Olympus_Mons")


def test_an_empty_roster_is_one_long_gap() -> None:
    view = week_view(Roster("America/New_York"), SPRING_WEEK, "America/New_York")
    assert view.rows == ()
    assert [day.gaps[0].requirement for day in view.days] == ["overall"] * 7
    assert view.days[6].gaps[0] == GapBlock(0, 1440, "overall", 1, 0)


def test_the_week_containing_an_instant_depends_on_the_zone() -> None:
    moment = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)  # Sunday 23:00 in New York
    assert week_containing(moment, "America/New_York") == date(2026, 3, 2)
    assert week_containing(moment, "UTC") == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ((0, 1, 2, 3, 4), "mon–fri"),
        ((5, 6), "sat sun"),
        ((6, 0, 1, 2), "sun–wed"),
        ((0, 2, 3, 4), "mon wed–fri"),
        ((0, 1, 2, 3, 4, 5, 6), "mon–sun"),
    ],
)
def test_days_read_as_ranges(days: tuple[int, ...], text: str) -> None:
    assert days_text(days) == text
