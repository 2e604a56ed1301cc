"""Coverage gaps: a full roster has none; every short interval is reported,
merged, with the requirement that is short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.roster import Coverage, Gap, coverage_gaps, load_roster_file, who_is_on_call
from ivr.roster.oncall import SUPERVISORS, supervisors_on_call
from ivr.roster.parse import RosterError
from tests.roster.conftest import EXAMPLE, roster_from

NEW_YORK = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def gap(start: str, end: str, language: str | None, required: int, available: int) -> Gap:
    return Gap(
        local(start).astimezone(UTC), local(end).astimezone(UTC), language, required, available
    )


WEEKDAYS = """
timezone: America/New_York
counselors:
  - {id: ana, name: Ana, phone: "+12025550111", languages: [en, es]}
  - {id: bo, name: Bo, phone: "+12025550112", languages: [en]}
  - {id: cy, name: Cy, phone: "+12025550113", languages: [en], role: supervisor}
shifts:
  - {counselor: ana, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
  - {counselor: bo, days: [mon, tue, wed, thu, fri], start: "12:00", end: "24:00"}
  - {counselor: cy, days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
"""


@pytest.mark.parametrize(
    "start",
    [
        "2026-03-01",
        "2026-03-08",
        "2026-10-30",
        "2026-11-01",
        "2026-12-20",
        "2027-03-14",
        "2027-11-07",
    ],
)
def test_the_example_roster_has_no_gaps_even_across_clock_changes(start: str) -> None:
    assert coverage_gaps(load_roster_file(EXAMPLE), local(f"{start}T00:00")) == []


def test_each_short_interval_is_reported_per_requirement(tmp_path: Path) -> None:
    roster = roster_from(WEEKDAYS, tmp_path)
    assert coverage_gaps(roster, local("2026-07-13T00:00"), days=1) == [
        gap("2026-07-13T00:00", "2026-07-13T09:00", None, 1, 0),
        gap("2026-07-13T00:00", "2026-07-13T09:00", "es", 1, 0),
        gap("2026-07-13T17:00", "2026-07-14T00:00", "es", 1, 0),
    ]


def test_adjacent_shortfalls_merge_and_report_the_fewest(tmp_path: Path) -> None:
    roster = roster_from(WEEKDAYS, tmp_path)
    found = coverage_gaps(
        roster, local("2026-07-13T00:00"), days=1, required=Coverage(minimum=2, languages={})
    )
    # 00-09 nobody, 09-12 only ana: one gap; 12-17 both; 17-24 only bo.
    assert found == [
        gap("2026-07-13T00:00", "2026-07-13T12:00", None, 2, 0),
        gap("2026-07-13T17:00", "2026-07-14T00:00", None, 2, 1),
    ]


def test_a_weekend_gap_is_as_long_as_real_time_says(tmp_path: Path) -> None:
    roster = roster_from(WEEKDAYS, tmp_path)
    found = coverage_gaps(roster, local("2026-10-31T00:00"), days=2, required=Coverage(1, {}))
    # Saturday and Sunday: 48 hours on the clock, 49 in fact (clocks fall back).
    assert [(g.start, g.end - g.start) for g in found] == [
        (local("2026-10-31T00:00").astimezone(UTC), timedelta(hours=49))
    ]


def test_a_replacement_who_lacks_a_language_opens_a_gap(tmp_path: Path) -> None:
    roster = roster_from(
        WEEKDAYS
        + """
overrides:
  - {counselor: bo, start: "2026-07-13T10:00", end: "2026-07-13T11:00", replaces: [ana]}
""",
        tmp_path,
    )
    found = coverage_gaps(
        roster, local("2026-07-13T09:00"), days=1, required=Coverage(0, {"es": 1})
    )
    assert found[0] == gap("2026-07-13T10:00", "2026-07-13T11:00", "es", 1, 0)


def test_handovers_inside_the_skipped_hour_leave_no_gap(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        counselors:
          - {id: a, name: A, phone: "+12025550121", languages: [en, es]}
          - {id: b, name: B, phone: "+12025550122", languages: [en, es]}
        shifts:
          - {counselor: a, days: [mon, tue, wed, thu, fri, sat, sun], start: "14:30", end: "02:30"}
          - {counselor: b, days: [mon, tue, wed, thu, fri, sat, sun], start: "02:30", end: "14:30"}
        coverage: {supervisors: 0}
        """,
        tmp_path,
    )
    for start in ("2026-03-01", "2026-10-25", "2027-03-07", "2027-11-01"):
        assert coverage_gaps(roster, local(f"{start}T00:00")) == [], start


def test_no_requirement_means_no_gaps(tmp_path: Path) -> None:
    roster = roster_from(WEEKDAYS, tmp_path)
    assert coverage_gaps(roster, local("2026-07-13T00:00"), required=Coverage(0, {})) == []


def test_an_empty_roster_is_one_gap_per_requirement(tmp_path: Path) -> None:
    roster = roster_from("timezone: UTC\ncounselors: []\n", tmp_path)
    start = datetime(2026, 7, 13, tzinfo=UTC)
    assert coverage_gaps(roster, start, days=3) == [
        Gap(start, start + timedelta(days=3), None, 1, 0),
        Gap(start, start + timedelta(days=3), "es", 1, 0),
        Gap(start, start + timedelta(days=3), SUPERVISORS, 1, 0),
    ]


def test_an_hour_with_no_supervisor_is_a_gap_and_a_supervisor_is_never_rung(
    tmp_path: Path,
) -> None:
    roster = roster_from(
        WEEKDAYS.replace('start: "00:00", end: "24:00"', 'start: "06:00", end: "24:00"'), tmp_path
    )
    monday = local("2026-07-13T00:00")
    found = coverage_gaps(roster, monday, days=1, required=Coverage(0, {}))
    assert found == [gap("2026-07-13T00:00", "2026-07-13T06:00", SUPERVISORS, 1, 0)]
    assert found[0].describe == "supervisors needed"
    noon = local("2026-07-13T12:30")
    assert [c.id for c in who_is_on_call(roster, noon)] == ["ana", "bo"]
    assert [c.id for c in supervisors_on_call(roster, noon)] == ["cy"]


def test_a_role_other_than_counselor_or_supervisor_is_refused(tmp_path: Path) -> None:
    text = WEEKDAYS.replace("role: supervisor", "role: boss")
    with pytest.raises(RosterError, match="'role' must be one of counselor, supervisor"):
        roster_from(text, tmp_path)
