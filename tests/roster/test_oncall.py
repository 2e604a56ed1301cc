"""Who is on call at an instant: shifts across midnight and zones, "24:00",
the US daylight-saving days of 2026 and 2027, overrides and `replaces`."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.roster import Counselor, Roster, Shift, prefer_language, who_is_on_call
from ivr.roster.localtime import wall_instant, zone
from tests.roster.conftest import roster_from

NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")

# ana: weekday days; bo then cy: every night, handing over at 01:30 (a time
# that happens twice when clocks fall back); pat: every night from Phoenix,
# which keeps no daylight saving; fay: whole weekend days; old: inactive.
TABLE_ROSTER = """
timezone: America/New_York
counselors:
  - {id: ana, name: Ana, phone: "+12025550111", languages: [en, es]}
  - {id: bo, name: Bo, phone: "+12025550112", languages: [en]}
  - {id: cy, name: Cy, phone: "+12025550113", languages: [en]}
  - {id: pat, name: Pat, phone: "+16025550114", languages: [en, es]}
  - {id: fay, name: Fay, phone: "+12025550115", languages: [es]}
  - {id: old, name: Old, phone: "+12025550116", languages: [en], active: false}
shifts:
  - {counselor: ana, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
  - {counselor: bo, days: [mon, tue, wed, thu, fri, sat, sun], start: "18:00", end: "01:30"}
  - {counselor: cy, days: [mon, tue, wed, thu, fri, sat, sun], start: "01:30", end: "08:00"}
  - counselor: pat
    days: [mon, tue, wed, thu, fri, sat, sun]
    start: "20:00"
    end: "04:00"
    timezone: America/Phoenix
  - {counselor: fay, days: [sat, sun], start: "00:00", end: "24:00"}
  - {counselor: old, days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}
"""


@pytest.fixture(scope="module")
def table_roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    return roster_from(TABLE_ROSTER, tmp_path_factory.mktemp("table"))


def ids(counselors: list[Counselor]) -> list[str]:
    return [c.id for c in counselors]


def local(text: str, fold: int = 0, where: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=where, fold=fold)


TABLE: list[tuple[str, int, ZoneInfo, list[str]]] = [
    # Summer (EDT, Phoenix 3 h behind): pat works 23:00-07:00 New York time.
    ("2026-07-15T12:00", 0, NEW_YORK, ["ana"]),
    ("2026-07-15T17:00", 0, NEW_YORK, []),
    ("2026-07-15T18:00", 0, NEW_YORK, ["bo"]),
    ("2026-07-15T22:59", 0, NEW_YORK, ["bo"]),
    ("2026-07-15T23:00", 0, NEW_YORK, ["bo", "pat"]),
    ("2026-07-16T01:29", 0, NEW_YORK, ["bo", "pat"]),
    ("2026-07-16T01:30", 0, NEW_YORK, ["cy", "pat"]),
    ("2026-07-16T06:59", 0, NEW_YORK, ["cy", "pat"]),
    ("2026-07-16T07:00", 0, NEW_YORK, ["cy"]),
    ("2026-07-16T08:00", 0, NEW_YORK, []),
    ("2026-07-16T09:00", 0, NEW_YORK, ["ana"]),
    # Winter (EST, Phoenix 2 h behind): pat works 22:00-06:00 New York time.
    ("2026-01-14T21:59", 0, NEW_YORK, ["bo"]),
    ("2026-01-14T22:00", 0, NEW_YORK, ["bo", "pat"]),
    ("2026-01-15T05:59", 0, NEW_YORK, ["cy", "pat"]),
    ("2026-01-15T06:00", 0, NEW_YORK, ["cy"]),
    ("2026-01-14T20:00", 0, PHOENIX, ["bo", "pat"]),
    ("2026-01-14T19:59", 0, PHOENIX, ["bo"]),
    # "24:00": the weekend day runs to midnight, no gap, no spill into Monday.
    ("2026-07-18T00:00", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-07-18T12:00", 0, NEW_YORK, ["fay"]),
    ("2026-07-19T23:59", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-07-20T00:00", 0, NEW_YORK, ["bo", "pat"]),
    # 2026-03-08, clocks spring forward at 02:00 EST to 03:00 EDT.
    ("2026-03-08T01:29", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-03-08T01:59", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-03-08T02:30", 0, NEW_YORK, ["cy", "pat", "fay"]),  # does not exist: 03:30 EDT
    ("2026-03-08T03:00", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-03-08T06:59", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-03-08T07:00", 0, NEW_YORK, ["cy", "fay"]),  # 04:00 in Phoenix
    ("2026-03-08T23:59", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-03-09T00:00", 0, NEW_YORK, ["bo", "pat"]),
    # 2026-11-01, clocks fall back at 02:00 EDT to 01:00 EST: 01:xx twice.
    ("2026-11-01T01:15", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-11-01T01:30", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-11-01T01:15", 1, NEW_YORK, ["cy", "pat", "fay"]),  # the repeated hour
    ("2026-11-01T01:30", 1, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-11-01T05:59", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2026-11-01T06:00", 0, NEW_YORK, ["cy", "fay"]),  # 04:00 in Phoenix
    ("2026-11-01T23:30", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2026-11-02T00:00", 0, NEW_YORK, ["bo", "pat"]),
    # 2027-03-14 and 2027-11-07, the same changes a year on.
    ("2027-03-14T01:59", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-03-14T02:30", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-03-14T06:59", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-03-14T07:00", 0, NEW_YORK, ["cy", "fay"]),
    ("2027-11-07T01:15", 0, NEW_YORK, ["bo", "pat", "fay"]),
    ("2027-11-07T01:15", 1, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-11-07T01:30", 0, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-11-07T01:30", 1, NEW_YORK, ["cy", "pat", "fay"]),
    ("2027-11-07T06:00", 0, NEW_YORK, ["cy", "fay"]),
]


@pytest.mark.parametrize(
    ("when", "fold", "where", "expected"),
    TABLE,
    ids=[f"{w}{'(2nd)' if f else ''}@{z.key}" for w, f, z, _ in TABLE],
)
def test_who_is_on_call_at_each_instant(
    table_roster: Roster, when: str, fold: int, where: ZoneInfo, expected: list[str]
) -> None:
    assert ids(who_is_on_call(table_roster, local(when, fold, where))) == expected


def test_the_same_instant_in_any_zone_gives_the_same_answer(table_roster: Roster) -> None:
    moment = local("2026-11-01T01:30", fold=1)
    for name in ("UTC", "America/Phoenix", "Asia/Kolkata", "Europe/Madrid"):
        assert who_is_on_call(table_roster, moment.astimezone(ZoneInfo(name))) == (
            who_is_on_call(table_roster, moment)
        )


def test_an_inactive_counselor_is_never_on_call(table_roster: Roster) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(0, 24 * 400, 7):
        assert "old" not in ids(who_is_on_call(table_roster, start + timedelta(hours=hour)))


def test_a_time_without_a_zone_is_refused(table_roster: Roster) -> None:
    with pytest.raises(ValueError, match="time zone"):
        who_is_on_call(table_roster, datetime(2026, 7, 15, 12))


def every_minute(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(minutes=m) for m in range(hours * 60)]


HANDOVER = """
timezone: America/New_York
counselors:
  - {id: early, name: E, phone: "+12025550121", languages: [en, es]}
  - {id: late, name: L, phone: "+12025550122", languages: [en, es]}
  - {id: ghost, name: G, phone: "+12025550123", languages: [en]}
  - {id: jumper, name: J, phone: "+12025550124", languages: [en]}
shifts:
  - {counselor: early, days: [sun], start: "00:00", end: "HANDOVER"}
  - {counselor: late, days: [sun], start: "HANDOVER", end: "08:00"}
  - {counselor: ghost, days: [sun], start: "02:10", end: "02:50"}
  - {counselor: jumper, days: [sun], start: "02:30", end: "05:00"}
"""


@pytest.mark.parametrize("day", ["2026-03-08", "2027-03-14"])
def test_a_handover_inside_the_skipped_hour_leaves_no_gap(day: str, tmp_path: Path) -> None:
    roster = roster_from(HANDOVER.replace("HANDOVER", "02:30"), tmp_path)
    night = local(f"{day}T00:00").astimezone(UTC)
    for moment in every_minute(night, 7):  # 00:00 EST to 08:00 EDT is 7 hours
        on = ids(who_is_on_call(roster, moment))
        assert on.count("early") + on.count("late") == 1, moment
    # The handover happens when the clocks jump: 02:00 EST, which is 03:00 EDT.
    jump = local(f"{day}T03:00").astimezone(UTC)
    assert "early" in ids(who_is_on_call(roster, jump - timedelta(seconds=1)))
    assert "late" in ids(who_is_on_call(roster, jump))
    # A shift wholly inside the missing hour never happens; one starting in it
    # starts when the clocks jump.
    assert all("ghost" not in ids(who_is_on_call(roster, m)) for m in every_minute(night, 7))
    assert "jumper" in ids(who_is_on_call(roster, jump))
    assert "jumper" not in ids(who_is_on_call(roster, jump - timedelta(seconds=1)))


@pytest.mark.parametrize("day", ["2026-11-01", "2027-11-07"])
def test_a_handover_at_a_repeated_time_is_at_its_first_occurrence(day: str, tmp_path: Path) -> None:
    roster = roster_from(HANDOVER.replace("HANDOVER", "01:30"), tmp_path)
    night = local(f"{day}T00:00").astimezone(UTC)
    handover = local(f"{day}T01:30", fold=0).astimezone(UTC)
    for moment in every_minute(night, 9):  # 00:00 EDT to 08:00 EST is 9 hours
        on = ids(who_is_on_call(roster, moment))
        expected = ["early"] if moment < handover else ["late"]
        expected += ["ghost"] if local(f"{day}T02:10") <= moment < local(f"{day}T02:50") else []
        expected += ["jumper"] if local(f"{day}T02:30") <= moment < local(f"{day}T05:00") else []
        assert on == expected, moment


def test_a_night_shift_covers_both_occurrences_of_the_repeated_hour(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        counselors:
          - {id: night, name: N, phone: "+12025550131", languages: [en]}
        shifts:
          - {counselor: night, days: [sat], start: "22:00", end: "06:00"}
        """,
        tmp_path,
    )
    start, end = local("2026-10-31T22:00"), local("2026-11-01T06:00")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=9)
    for moment in every_minute(start.astimezone(UTC), 9):
        assert ids(who_is_on_call(roster, moment)) == ["night"], moment
    assert who_is_on_call(roster, end) == []
    assert who_is_on_call(roster, start - timedelta(seconds=1)) == []


def test_phoenix_covers_the_new_york_night_all_year(tmp_path: Path) -> None:
    # 21:00-06:00 in Phoenix is 23:00-08:00 (EST) or 00:00-09:00 (EDT) in New York.
    roster = roster_from(
        """
        timezone: America/New_York
        counselors:
          - {id: pat, name: Pat, phone: "+16025550114", languages: [en]}
        shifts:
          - counselor: pat
            days: [mon, tue, wed, thu, fri, sat, sun]
            start: "21:00"
            end: "06:00"
            timezone: America/Phoenix
        """,
        tmp_path,
    )
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        for hour in range(8):
            moment = datetime(day.year, day.month, day.day, hour, 30, tzinfo=NEW_YORK)
            assert ids(who_is_on_call(roster, moment)) == ["pat"], moment
        day += timedelta(days=3)


OVERRIDES = """
timezone: America/New_York
counselors:
  - {id: ana, name: Ana, phone: "+12025550141", languages: [en, es]}
  - {id: bo, name: Bo, phone: "+12025550142", languages: [en]}
  - {id: cy, name: Cy, phone: "+12025550143", languages: [en]}
  - {id: dee, name: Dee, phone: "+12025550144", languages: [en], active: false}
  - {id: eve, name: Eve, phone: "+34915550145", languages: [es]}
shifts:
  - {counselor: ana, days: [thu, fri], start: "09:00", end: "17:00"}
  - {counselor: bo, days: [thu, fri], start: "09:00", end: "17:00"}
overrides:
  - {counselor: cy, start: "2026-12-24T12:00", end: "2026-12-24T18:00", replaces: [ana]}
  - {counselor: dee, start: "2026-12-24T12:00", end: "2026-12-24T18:00"}
  - {counselor: bo, start: "2026-12-25T08:00", end: "2026-12-25T10:00", replaces: [ana]}
  - counselor: eve
    start: "2026-12-25T15:00"
    end: "2026-12-25T20:00"
    timezone: Europe/Madrid
  - {counselor: ana, start: "2026-12-25T09:30", end: "2026-12-25T12:00", replaces: [bo]}
"""


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-12-24T11:59", ["ana", "bo"]),
        ("2026-12-24T12:00", ["bo", "cy"]),  # cy covers for ana; dee is inactive
        ("2026-12-24T17:00", ["cy"]),
        ("2026-12-24T18:00", []),
        ("2026-12-25T08:00", ["bo"]),  # replacing ana before her shift: bo alone
        ("2026-12-25T09:00", ["bo", "eve"]),  # 15:00 in Madrid
        # Both replace the other; an override always puts its own counselor on.
        ("2026-12-25T09:45", ["ana", "bo", "eve"]),
        ("2026-12-25T10:00", ["ana", "eve"]),
        ("2026-12-25T12:00", ["ana", "bo", "eve"]),
        ("2026-12-25T14:00", ["ana", "bo"]),
    ],
)
def test_overrides_put_people_on_and_take_the_replaced_off(
    when: str, expected: list[str], tmp_path: Path
) -> None:
    roster = roster_from(OVERRIDES, tmp_path)
    assert ids(who_is_on_call(roster, local(when))) == expected


def test_routing_order_is_priority_then_file_order(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: UTC
        counselors:
          - {id: a, name: A, phone: "+12025550151", languages: [en]}
          - {id: b, name: B, phone: "+12025550152", languages: [es], priority: 2}
          - {id: c, name: C, phone: "+12025550153", languages: [en]}
          - {id: d, name: D, phone: "+12025550154", languages: [es], priority: 1}
        shifts:
          - {counselor: a, days: [mon], start: "00:00", end: "24:00"}
          - {counselor: b, days: [mon], start: "00:00", end: "24:00"}
          - {counselor: c, days: [mon], start: "00:00", end: "24:00"}
          - {counselor: d, days: [mon], start: "00:00", end: "24:00"}
        """,
        tmp_path,
    )
    on = who_is_on_call(roster, datetime(2026, 7, 13, 12, tzinfo=UTC))
    assert ids(on) == ["d", "b", "a", "c"]
    assert ids(prefer_language(on, "en")) == ["a", "c", "d", "b"]


def test_a_date_range_counts_by_the_day_a_shift_starts(tmp_path: Path) -> None:
    roster = roster_from(
        """
        timezone: America/New_York
        counselors:
          - {id: temp, name: T, phone: "+12025550161", languages: [en]}
        shifts:
          - counselor: temp
            days: [mon, tue, wed, thu, fri, sat, sun]
            start: "22:00"
            end: "06:00"
            valid_from: "2026-07-01"
            valid_until: "2026-07-31"
        """,
        tmp_path,
    )
    assert who_is_on_call(roster, local("2026-07-01T03:00")) == []
    assert ids(who_is_on_call(roster, local("2026-07-01T22:00"))) == ["temp"]
    assert ids(who_is_on_call(roster, local("2026-08-01T03:00"))) == ["temp"]
    assert who_is_on_call(roster, local("2026-08-01T22:00")) == []


def brute_force(roster: Roster, moment: datetime) -> list[str]:
    """The definition, shift by shift, with no index: the reference to check
    the indexed lookup against."""
    at = moment.timestamp()
    on: set[str] = set()
    for shift in roster.shifts:
        here = zone(shift.timezone)
        today = moment.astimezone(here).date()
        for day in (today - timedelta(days=1), today):
            if not shift.runs_on(day):
                continue
            start = wall_instant(day, shift.start, here)
            end_day = day + timedelta(days=1) if shift.crosses_midnight else day
            if start <= at < wall_instant(end_day, shift.end, here):
                on.add(shift.counselor)
    return [c.id for c in roster.routing_order if c.id in on and c.active]


def test_a_large_roster_answers_as_the_definition_does() -> None:
    chance = random.Random(5)
    zones = ["America/New_York", "America/Phoenix", "America/Los_Angeles", "Europe/Madrid"]
    counselors = tuple(
        Counselor(f"c{n}", f"C {n}", f"+1202555{n:04d}", ("en",), active=n % 17 != 0)
        for n in range(400)
    )
    shifts = tuple(
        Shift(
            f"c{chance.randrange(400)}",
            tuple(sorted(chance.sample(range(7), chance.randint(1, 7)))),
            chance.randrange(0, 24 * 60),
            chance.randrange(1, 24 * 60 + 1),
            chance.choice(zones),
        )
        for _ in range(2_000)
    )
    shifts = tuple(s for s in shifts if s.start != s.end)
    roster = Roster("America/New_York", counselors, shifts)
    # Weeks with the US and the European clock changes (on different dates).
    moments = [
        start + timedelta(seconds=chance.randrange(3600 * 24 * 21))
        for start in (datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 10, 24, tzinfo=UTC))
        for _ in range(15)
    ]
    # At the edges of an hour, where the index's hour buckets meet.
    moments += [m.replace(minute=0, second=30) for m in moments[::3]]
    moments += [m.replace(minute=59, second=30) for m in moments[1::3]]
    moments += [local("2026-11-01T01:30", 1), local("2026-03-08T03:00")]
    for moment in moments:
        assert ids(who_is_on_call(roster, moment)) == brute_force(roster, moment), moment
