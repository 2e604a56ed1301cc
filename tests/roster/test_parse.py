"""Roster files: a good file gives the roster it says; a file with any problem
is refused whole, each problem as `file:line: message`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from ivr.platform.config import PROJECT_ROOT
from ivr.roster import (
    Counselor,
    Coverage,
    Override,
    RosterError,
    Shift,
    check_roster_file,
    load_roster_file,
)
from ivr.roster.parse import PHONE_PROBLEM
from tests.roster.conftest import EXAMPLE, WriteRoster

GOOD = """
timezone: America/New_York
counselors:
  - id: maria
    name: María López
    phone: "+12025550101"
    languages: [en, es]
  - id: sam
    name: Sam Carter
    phone: +12025550102
    languages: [en]
    active: false
    priority: 2
shifts:
  - counselor: maria
    days: [mon, tue, wed, thu, fri]
    start: 22:00
    end: "06:00"
    timezone: America/Phoenix
  - counselor: maria
    days: [sun, sat]
    start: "00:00"
    end: "24:00"
    valid_from: 2026-01-01
    valid_until: "2026-12-31"
overrides:
  - counselor: maria
    start: "2026-12-24T18:00"
    end: "2026-12-25T08:00"
    replaces: [sam]
    note: Christmas Eve
"""


def test_a_good_file_gives_the_roster_it_describes(write_roster: WriteRoster) -> None:
    roster = load_roster_file(write_roster(GOOD))
    assert roster.timezone == "America/New_York"
    assert roster.counselors == (
        Counselor("maria", "María López", "+12025550101", ("en", "es")),
        Counselor("sam", "Sam Carter", "+12025550102", ("en",), active=False, priority=2),
    )
    # Ids are made from each item's content (see test_ids_*); compared apart.
    assert tuple(replace(s, id="") for s in roster.shifts) == (
        Shift("maria", (0, 1, 2, 3, 4), 22 * 60, 6 * 60, "America/Phoenix"),
        Shift(
            "maria", (5, 6), 0, 24 * 60, "America/New_York", date(2026, 1, 1), date(2026, 12, 31)
        ),
    )
    assert tuple(replace(o, id="") for o in roster.overrides) == (
        Override(
            "maria",
            datetime(2026, 12, 24, 18),
            datetime(2026, 12, 25, 8),
            "America/New_York",
            ("sam",),
            "Christmas Eve",
        ),
    )
    assert roster.coverage == Coverage(minimum=1, languages={"es": 1})


def test_unquoted_times_and_numbers_are_read_as_written(write_roster: WriteRoster) -> None:
    # YAML 1.1 would read 22:00 as the number 1320 and +1202… as an integer.
    roster = load_roster_file(write_roster(GOOD))
    assert roster.shifts[0].start == 22 * 60
    assert roster.counselors[1].phone == "+12025550102"


@pytest.mark.parametrize(
    "written",
    ["(202) 555-0101", "202-555-0101", "202.555.0101", "+1 202 555 0101", "1-202-555-0101",
     "+12025550101"],
)  # fmt: skip
def test_a_number_as_people_write_it_is_kept_in_e164(
    write_roster: WriteRoster, written: str
) -> None:
    """A US number as dialled there; another country's with its + code."""
    text = GOOD.replace('"+12025550101"', f'"{written}"').replace(
        "+12025550102", '"+34 915 55 01 08"'
    )
    roster = load_roster_file(write_roster(text))
    assert [c.phone for c in roster.counselors] == ["+12025550101", "+34915550108"]


def test_one_number_written_two_ways_is_still_one_counselor_s(write_roster: WriteRoster) -> None:
    text = GOOD.replace("+12025550102", '"(202) 555-0101"')
    with pytest.raises(RosterError) as refused:
        load_roster_file(write_roster(text), "roster.yaml")
    assert [str(p) for p in refused.value.problems] == [
        "roster.yaml:9: counselor 'sam': phone is already counselor 'maria's"
    ]


def test_the_example_roster_imports_cleanly() -> None:
    assert [str(p) for p in check_roster_file(EXAMPLE)] == []
    roster = load_roster_file(EXAMPLE)
    assert {c.id for c in roster.counselors} >= {"maria", "lucia", "tomas"}


def test_coverage_can_be_set_and_languages_dropped(write_roster: WriteRoster) -> None:
    text = GOOD + "coverage:\n  minimum: 2\n  languages: {}\n"
    assert load_roster_file(write_roster(text)).coverage == Coverage(2, {})


BROKEN: list[tuple[str, str, str, str]] = [
    # (what, the good text's line, replaced by, expected problem)
    (
        "unknown counselor in a shift",
        "  - counselor: maria\n    days: [mon, tue",
        "  - counselor: mario\n    days: [mon, tue",
        "roster.yaml:14: shift: unknown counselor 'mario'",
    ),
    (
        "unknown counselor in replaces",
        "replaces: [sam]",
        "replaces: [sam, pat]",
        "roster.yaml:29: override by 'maria': unknown counselor 'pat'",
    ),
    (
        "bad phone number",
        '"+12025550101"',
        '"+1202555010"',
        "roster.yaml:5: counselor 'maria': phone " + PHONE_PROBLEM,
    ),
    (
        "a local number too short to dial",
        '"+12025550101"',
        '"555-0101"',
        "roster.yaml:5: counselor 'maria': phone " + PHONE_PROBLEM,
    ),
    (
        "a number with an extension nobody can dial",
        '"+12025550101"',
        '"(202) 555-0101 ext. 12"',
        "roster.yaml:5: counselor 'maria': phone " + PHONE_PROBLEM,
    ),
    (
        "a national number of another country, read as a US one",
        '"+12025550101"',
        '"020 7946 0958"',
        "roster.yaml:5: counselor 'maria': phone " + PHONE_PROBLEM,
    ),
    (
        "digits YAML reads as a number",
        '"+12025550101"',
        "2025550101",
        "roster.yaml:5: counselor 'maria': write the phone in quotes, like \"2025550101\"",
    ),
    (
        "unknown zone",
        "timezone: America/Phoenix",
        "timezone: America/Phoenix_AZ",
        "roster.yaml:18: shift of 'maria': unknown time zone 'America/Phoenix_AZ'",
    ),
    (
        "unknown default zone",
        "timezone: America/New_York",
        "timezone: Eastern",
        "roster.yaml:1: roster: unknown time zone 'Eastern'",
    ),
    (
        "malformed time",
        'end: "06:00"',
        'end: "6am"',
        "roster.yaml:17: shift of 'maria': 'end' must be \"HH:MM\" or \"24:00\", not '6am'",
    ),
    (
        "hour out of range",
        "start: 22:00",
        "start: 25:00",
        "roster.yaml:16: shift of 'maria': 'start' must be \"HH:MM\", not '25:00'",
    ),
    (
        "24:00 as a start",
        'start: "00:00"',
        'start: "24:00"',
        "roster.yaml:21: shift of 'maria': 'start' must be \"HH:MM\", not '24:00'",
    ),
    (
        "unknown field",
        "    active: false",
        "    actve: false",
        "roster.yaml:11: counselor 'sam': unknown field 'actve'",
    ),
    (
        "duplicate id",
        "  - id: sam",
        "  - id: maria",
        "roster.yaml:7: duplicate counselor id 'maria' (first on line 3)",
    ),
    (
        "duplicate key",
        "    priority: 2",
        "    priority: 2\n    priority: 3",
        "roster.yaml:13: duplicate key 'priority'",
    ),
    (
        "unknown day",
        "days: [sun, sat]",
        "days: [sun, sunday]",
        "roster.yaml:20: shift of 'maria': 'sunday' is not a day (mon, tue, … sun)",
    ),
    (
        "malformed override time",
        '"2026-12-25T08:00"',
        '"2026-12-25 8am"',
        "roster.yaml:28: override by 'maria': 'end' must be "
        "\"YYYY-MM-DDTHH:MM\" (local time, no offset), not '2026-12-25 8am'",
    ),
    (
        "override ending before it starts",
        '"2026-12-25T08:00"',
        '"2026-12-24T08:00"',
        "roster.yaml:28: override by 'maria': ends before it starts",
    ),
    (
        "bad date",
        "valid_from: 2026-01-01",
        "valid_from: 2026-02-30",
        "roster.yaml:23: shift of 'maria': 'valid_from' must be a date YYYY-MM-DD, "
        "not '2026-02-30'",
    ),
    (
        "range backwards",
        'valid_until: "2026-12-31"',
        'valid_until: "2025-12-31"',
        "roster.yaml:24: shift of 'maria': valid_until is before valid_from",
    ),
    (
        "same start and end",
        'end: "06:00"',
        'end: "22:00"',
        "roster.yaml:17: shift of 'maria': starts and ends at the same time; "
        "a whole day is 00:00 to 24:00",
    ),
    (
        "replacing oneself",
        "replaces: [sam]",
        "replaces: [maria]",
        "roster.yaml:29: override by 'maria': cannot replace themselves",
    ),
    (
        "language code",
        "languages: [en]",
        "languages: [English]",
        "roster.yaml:10: counselor 'sam': 'English' is not a language code like en or es",
    ),
    (
        "same phone twice",
        "+12025550102",
        "+12025550101",
        "roster.yaml:9: counselor 'sam': phone is already counselor 'maria's",
    ),
    (
        "missing field",
        "    name: Sam Carter\n",
        "",
        "roster.yaml:7: counselor 'sam': missing 'name'",
    ),
    (
        "negative priority",
        "priority: 2",
        "priority: -2",
        "roster.yaml:12: counselor 'sam': 'priority' must be a whole number, 0 or more",
    ),
    (
        "YAML syntax",
        "    languages: [en]",
        "    languages: [en",
        "roster.yaml:11: YAML: expected ',' or ']', but got ':'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_each_problem_is_reported_at_its_line(
    old: str, new: str, expected: str, tmp_path: Path
) -> None:
    assert GOOD.count(old) == 1, f"the case must change one place: {old!r}"
    path = tmp_path / "roster.yaml"
    path.write_text(GOOD.lstrip().replace(old, new), encoding="utf-8")
    with pytest.raises(RosterError) as refused:
        load_roster_file(path, "roster.yaml")
    assert expected in [str(p) for p in refused.value.problems]


def test_every_problem_in_a_file_is_listed_in_line_order(tmp_path: Path) -> None:
    text = (
        GOOD.lstrip()
        .replace('"+12025550101"', '"+1"')
        .replace("counselor: maria\n    days: [mon", "counselor: nobody\n    days: [mon")
        .replace("timezone: America/Phoenix", "timezone: Mars/Olympus")
    )
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_roster_file(path, "roster.yaml")
    assert [p.line for p in problems] == [5, 14, 18]


def test_the_top_level_must_be_a_mapping(write_roster: WriteRoster) -> None:
    problems = check_roster_file(write_roster("- just\n- a list\n"), "r.yaml")
    assert [str(p) for p in problems] == ["r.yaml:1: roster must be a mapping"]


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    problems = check_roster_file(tmp_path / "missing.yaml", "missing.yaml")
    assert len(problems) == 1
    assert problems[0].message.startswith("cannot read")


def test_the_documented_example_is_a_valid_roster(tmp_path: Path) -> None:
    doc = (PROJECT_ROOT / "docs" / "roster-format.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "doc.yaml"
    path.write_text(example, encoding="utf-8")
    roster = load_roster_file(path)
    assert [c.id for c in roster.counselors] == ["maria", "sam"]
    assert roster.overrides[0].replaces == ("sam",)


IDS = """
timezone: UTC
counselors:
  - {id: a, name: A, phone: "+12025550111", languages: [en]}
  - {id: b, name: B, phone: "+12025550112", languages: [en]}
shifts:
  - {id: mornings, counselor: a, days: [mon], start: "06:00", end: "12:00"}
  - {counselor: a, days: [tue], start: "06:00", end: "12:00"}
  - {counselor: b, days: [wed], start: "06:00", end: "12:00"}
  - {counselor: b, days: [wed], start: "06:00", end: "12:00"}
overrides:
  - {counselor: b, start: "2026-12-24T18:00", end: "2026-12-25T08:00", replaces: [a]}
  - {id: new-year, counselor: a, start: "2026-12-31T18:00", end: "2027-01-01T08:00"}
"""


def test_ids_given_are_kept_and_the_others_made_unique(write_roster: WriteRoster) -> None:
    roster = load_roster_file(write_roster(IDS))
    ids = [s.id for s in roster.shifts]
    assert ids[0] == "mornings"
    assert all(i.startswith("s-") for i in ids[1:])
    assert ids[3] == ids[2] + "-2"  # the same shift twice: two shifts, two ids
    assert len(set(ids)) == 4
    assert roster.overrides[0].id.startswith("o-")
    assert roster.overrides[1].id == "new-year"


def test_ids_made_from_content_survive_a_reordered_file(write_roster: WriteRoster) -> None:
    before = load_roster_file(write_roster(IDS))
    lines = IDS.splitlines()
    tuesday = next(n for n, line in enumerate(lines) if "[tue]" in line)
    lines.insert(tuesday + 2, lines.pop(tuesday))  # after the Wednesdays now
    after = load_roster_file(write_roster("\n".join(lines)))
    assert [s.id for s in after.shifts] != [s.id for s in before.shifts]
    assert sorted((s.days, s.id) for s in before.shifts) == sorted(
        (s.days, s.id) for s in after.shifts
    )
    assert before.overrides == after.overrides


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{counselor: a, days: [tue]",
            "{id: mornings, counselor: a, days: [tue]",
            "duplicate shift id 'mornings' (first on line 6)",
        ),
        (
            "{id: new-year, counselor: a",
            "{id: mornings, counselor: a",
            "duplicate override id 'mornings' (first on line 6)",
        ),
        ("{id: mornings,", "{id: 'no spaces',", "shift: id must be letters, digits, '_', '.', '-'"),
        ("{id: mornings,", "{id: '',", "shift: 'id' must be non-empty text"),
    ],
)
def test_bad_or_repeated_ids_are_refused(
    old: str, new: str, expected: str, write_roster: WriteRoster
) -> None:
    with pytest.raises(RosterError) as refused:
        load_roster_file(write_roster(IDS.replace(old, new)))
    assert expected in [p.message for p in refused.value.problems]
