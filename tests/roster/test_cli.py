"""`helpline roster …` against a real Redis: import refuses a bad file whole,
export gives back what was imported, and people see masked numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ivr.roster import RosterStore, load_roster_file
from tests.roster.conftest import EXAMPLE, Run

GAPPY = """
timezone: America/New_York
counselors:
  - {id: ana, name: Ana, phone: "+12025550111", languages: [en]}
shifts:
  - {counselor: ana, days: [mon], start: "09:00", end: "17:00"}
"""


def test_import_stores_the_roster(run: Run, redis_client: redis.Redis) -> None:
    result = run("import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "roster version 1" in result.output
    assert "WARNING" not in result.output
    assert RosterStore(redis_client).load() == load_roster_file(EXAMPLE)


def test_an_import_is_audited_like_any_other_roster_change(
    run: Run, redis_client: redis.Redis, tmp_path: Path
) -> None:
    from ivr.cli.support import cli_who
    from ivr.operators.audit import AuditLog

    assert run("import", str(EXAMPLE)).exit_code == 0
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    second, first = AuditLog(redis_client).recent(2)
    assert (first.who, first.action, first.target) == (cli_who(), "roster.import", "roster.yaml")
    assert first.before is None  # nothing was stored before
    example = load_roster_file(EXAMPLE)
    assert first.after == {
        "version": 1, "counselors": len(example.counselors),
        "active": sum(c.active for c in example.counselors), "shifts": len(example.shifts),
        "overrides": len(example.overrides), "timezone": "America/New_York",
        "file": str(EXAMPLE),
    }  # fmt: skip
    assert (second.who, second.action, second.target) == (cli_who(), "roster.import", "gappy.yaml")
    assert second.before == {key: value for key, value in first.after.items() if key != "file"}
    assert second.after["version"] == 2
    assert (second.after["counselors"], second.after["shifts"]) == (1, 1)
    # Nothing stored, nothing audited: a check, a refused file.
    assert run("import", "--check", str(EXAMPLE)).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(GAPPY.replace("[mon]", "[someday]"), encoding="utf-8")
    assert run("import", str(broken)).exit_code == 1
    assert len(AuditLog(redis_client).recent()) == 2


def test_a_file_with_problems_changes_nothing(
    run: Run, redis_client: redis.Redis, tmp_path: Path
) -> None:
    assert run("import", str(EXAMPLE)).exit_code == 0
    broken = tmp_path / "broken.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    broken.write_text(text.replace("counselor: sam", "counselor: samuel"), encoding="utf-8")
    result = run("import", str(broken))
    assert result.exit_code == 1
    line = text.splitlines().index("  - counselor: sam") + 1
    assert f"{broken}:{line}: shift: unknown counselor 'samuel'" in result.output
    assert "nothing imported" in result.output
    stored = RosterStore(redis_client).load_stored()
    assert stored is not None
    assert stored.version == 1


def test_check_only_validates(run: Run, redis_client: redis.Redis) -> None:
    result = run("import", "--check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "roster OK" in result.output
    assert RosterStore(redis_client).load() is None


def test_a_roster_with_gaps_is_imported_with_a_loud_warning(
    run: Run, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "WARNING:" in result.stderr
    assert "coverage gap(s)" in result.stderr
    assert RosterStore(redis_client).load() is not None


def test_export_gives_back_what_was_imported(run: Run, tmp_path: Path) -> None:
    run("import", str(EXAMPLE))
    printed = run("export")
    assert printed.exit_code == 0
    assert "+12025550101" in printed.output  # the export is the one place numbers are whole
    target = tmp_path / "out.yaml"
    assert run("export", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == printed.output
    assert load_roster_file(target) == load_roster_file(EXAMPLE)


def test_show_masks_phone_numbers(run: Run) -> None:
    run("import", str(EXAMPLE))
    result = run("show")
    assert result.exit_code == 0, result.output
    assert "María López" in result.output
    assert "…0101" in result.output
    assert "5550101" not in result.output
    assert "(inactive: never rung)" in result.output


@pytest.mark.parametrize(
    ("args", "when", "expected"),
    [
        # Sunday night, clocks falling back: Tomás (Madrid morning) both times.
        (["--at", "2026-11-01T01:30"], "Sun 2026-11-01 01:30 EDT (05:30 UTC)", ["tomas"]),
        (["--at", "2026-11-01T01:30-05:00"], "Sun 2026-11-01 01:30 EST (06:30 UTC)", ["tomas"]),
        # A Tuesday 23:30 in Phoenix is Wednesday 02:30 in New York: Lucía.
        (
            ["--at", "2026-07-14T23:30", "--tz", "America/Phoenix"],
            "Tue 2026-07-14 23:30 MST (06:30 UTC)",
            ["lucia"],
        ),
        (["--at", "2026-07-15T12:00"], "Wed 2026-07-15 12:00 EDT (16:00 UTC)", ["maria", "sam"]),
        (
            ["--at", "2026-12-24T18:00"],
            "Thu 2026-12-24 18:00 EST (23:00 UTC)",
            ["maria", "jordan"],
        ),
    ],
)
def test_oncall_lists_who_is_rung_in_order(
    run: Run, args: list[str], when: str, expected: list[str]
) -> None:
    run("import", str(EXAMPLE))
    result = run("oncall", *args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"on call at {when}:"
    assert [line.split()[1] for line in lines[1:]] == expected
    assert "+1" not in result.output


def test_oncall_says_when_nobody_is_on(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    run("import", str(path))
    result = run("oncall", "--at", "2026-07-14T12:00")
    assert result.exit_code == 0
    assert "nobody" in result.output


def test_bad_options_are_refused(run: Run) -> None:
    run("import", str(EXAMPLE))
    assert run("oncall", "--tz", "Mars/Olympus").exit_code == 2
    assert run("oncall", "--at", "tomorrow").exit_code == 2
    assert run("gaps", "--days", "0").exit_code == 2


def test_commands_without_a_roster_say_how_to_get_one(run: Run) -> None:
    for command in ("show", "export", "oncall", "gaps"):
        result = run(command)
        assert result.exit_code == 1
        assert "helpline roster import FILE" in result.output


def test_gaps_reports_and_exits_1(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    run("import", str(path))
    result = run("gaps", "--days", "2", "--from", "2026-07-13T00:00")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Mon 2026-07-13 00:00 EDT to Mon 2026-07-13 09:00 EDT (9h): 0 of 1 needed anyone",
        "Mon 2026-07-13 00:00 EDT to Wed 2026-07-15 00:00 EDT (2d): 0 of 1 needed speaking es",
        "Mon 2026-07-13 00:00 EDT to Wed 2026-07-15 00:00 EDT (2d): 0 of 1 supervisors needed",
        "Mon 2026-07-13 17:00 EDT to Wed 2026-07-15 00:00 EDT (1d 7h): 0 of 1 needed anyone",
    ]


def test_gaps_on_a_full_roster_exits_0(run: Run) -> None:
    run("import", str(EXAMPLE))
    result = run("gaps", "--from", "2026-10-25T00:00", "--days", "30")
    assert result.exit_code == 0, result.output
    assert "no coverage gaps in the 30 days from Sun 2026-10-25 00:00 EDT" in result.output
