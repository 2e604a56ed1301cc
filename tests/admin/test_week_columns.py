"""The week laid out to be read: blocks side by side in lanes when they
overlap, never on top of one another; each drawn tall enough for its name
and times, which stay its true ones; gaps in cover in one lane of their own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path

from ivr.web.admin.calendar import week_view
from ivr.web.admin.week_columns import LABEL_MINUTES, Column, Placed, columns
from tests.roster.conftest import EXAMPLE, roster_from

WEEK = date(2026, 7, 13)  # a Monday
BUSY = """
timezone: America/New_York
coverage: {minimum: 1, languages: {es: 1}, supervisors: 0}
counselors:
  - {id: ana, name: Ana Torres, phone: "+12025550111", languages: [en, es]}
  - {id: sam, name: Sam Carter, phone: "+12025550112", languages: [en]}
  - {id: lee, name: Lee, phone: "+12025550113", languages: [en, es]}
shifts:
  - {id: ana-days, counselor: ana, days: [mon], start: "08:00", end: "16:00"}
  - {id: sam-days, counselor: sam, days: [mon], start: "09:00", end: "17:00"}
  - {id: lee-late, counselor: lee, days: [mon], start: "23:45", end: "24:00"}
overrides:
  - {id: dentist, counselor: lee, start: "2026-07-13T12:00", end: "2026-07-13T12:20",
     replaces: [sam]}
"""


def monday(tmp_path: Path) -> Column:
    return columns(week_view(roster_from(BUSY, tmp_path), WEEK, "America/New_York"))[0]


def said(column: Column) -> list[tuple[str, str, str]]:
    ordered = sorted(column.blocks, key=lambda p: (p.start, p.kind))
    return [(p.kind, p.name, p.times) for p in ordered]


def test_every_block_says_who_and_its_true_times(tmp_path: Path) -> None:
    assert said(monday(tmp_path)) == [
        ("gap", "Gap", "00:00–08:00"),
        ("shift", "Ana Torres", "08:00–16:00"),
        ("shift", "Sam Carter", "09:00–12:00"),
        ("off", "Sam Carter", "12:00–12:20"),
        ("override", "Lee", "12:00–12:20"),
        ("shift", "Sam Carter", "12:20–17:00"),
        ("gap", "Gap: es", "16:00–17:00"),
        ("gap", "Gap", "17:00–23:45"),
        ("shift", "Lee", "23:45–24:00"),
    ]


def test_blocks_that_overlap_as_drawn_sit_in_different_lanes(tmp_path: Path) -> None:
    column = monday(tmp_path)
    for one, other in combinations(column.blocks, 2):
        if one.lane == other.lane:
            assert one.bottom <= other.top or other.bottom <= one.top, (one, other)
    assert all(0 <= p.lane < column.lanes for p in column.blocks)
    # The gaps; Ana; Sam; Lee's twenty minutes, drawn an hour tall beside Sam's
    # twenty minutes off; and so the rest of Sam's shift beside them.
    assert column.lanes == 5


def test_gaps_share_one_lane_cut_where_what_is_short_changes(tmp_path: Path) -> None:
    gaps = [p for p in monday(tmp_path).blocks if p.kind == "gap"]
    assert {p.lane for p in gaps} == {0}
    assert [p.source for p in gaps] == ["overall", "es", "overall"]
    assert gaps[0].about == "0 of 1 needed on call; 0 of 1 needed speaking es"
    assert gaps[1].about == "0 of 1 needed speaking es"
    assert {p.lane for p in monday(tmp_path).blocks if p.kind != "gap"} == {1, 2, 3, 4}


def test_a_short_block_is_drawn_an_hour_tall_and_kept_inside_its_day(tmp_path: Path) -> None:
    blocks = {(p.kind, p.times): p for p in monday(tmp_path).blocks}
    dentist = blocks[("override", "12:00–12:20")]
    assert (dentist.top, dentist.bottom, dentist.short) == (720, 720 + LABEL_MINUTES, True)
    late = blocks[("shift", "23:45–24:00")]
    assert (late.top, late.bottom, late.short) == (1440 - LABEL_MINUTES, 1440, True)
    assert late.times == "23:45–24:00"  # what it says is still the truth
    ana = blocks[("shift", "08:00–16:00")]
    assert (ana.top, ana.bottom, ana.short) == (480, 960, False)


def test_a_taller_block_lets_a_long_name_wrap_onto_more_lines(tmp_path: Path) -> None:
    blocks = {p.times: p for p in monday(tmp_path).blocks}
    assert blocks["12:00–12:20"].name_lines == 2
    assert blocks["08:00–16:00"].name_lines > blocks["09:00–12:00"].name_lines > 2


def test_the_tooltip_tells_the_whole_story(tmp_path: Path) -> None:
    off = next(p for p in monday(tmp_path).blocks if p.kind == "off")
    assert isinstance(off, Placed)
    assert off.title.startswith("Sam Carter, 12:00–12:20 (replaced (off)): off: Lee covers")


def test_now_is_drawn_on_today_only(tmp_path: Path) -> None:
    roster = roster_from(BUSY, tmp_path)
    now = datetime(2026, 7, 15, 14, 30, tzinfo=UTC)  # Wednesday 10:30 in New York
    days = columns(week_view(roster, WEEK, "America/New_York", now))
    assert [d.now for d in days] == [None, None, 630, None, None, None, None]


def test_the_example_roster_fits_a_few_lanes_a_day() -> None:
    from ivr.roster import load_roster_file

    days = columns(week_view(load_roster_file(EXAMPLE), WEEK, "America/New_York"))
    assert all(1 <= d.lanes <= 4 for d in days), [d.lanes for d in days]
    assert all(p.name and p.times for d in days for p in d.blocks)


def test_a_supervisor_short_is_named_too(tmp_path: Path) -> None:
    text = BUSY.replace("supervisors: 0", "supervisors: 1")
    gaps = [
        (p.name, p.times, p.about)
        for p in columns(week_view(roster_from(text, tmp_path), WEEK, "America/New_York"))[0].blocks
        if p.kind == "gap"
    ]
    assert gaps[:2] == [
        ("Gap", "00:00–08:00",
         "0 of 1 needed on call; 0 of 1 needed speaking es; 0 of 1 supervisors needed"),
        ("Gap: supervisor", "08:00–16:00", "0 of 1 supervisors needed"),
    ]  # fmt: skip
