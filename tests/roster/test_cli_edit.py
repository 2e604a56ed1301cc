"""`helpline roster counselor|shift|override …`: the edits of the pages and the
API from a terminal, with the same rules, refusals naming the option at
fault, ids to name shifts by, and every change audited as the CLI's user."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ivr.operators.audit import AuditLog
from ivr.roster import Roster, RosterStore
from tests.roster.conftest import EXAMPLE, Run

SMALL = """
timezone: America/New_York
counselors:
  - {id: maria, name: María, phone: "+12025550101", languages: [en, es], priority: 1}
  - {id: lee, name: Lee, phone: "+12025550103", languages: [en]}
shifts:
  - {id: nights, counselor: maria, days: [mon], start: "22:00", end: "06:00"}
overrides:
  - {id: xmas, counselor: lee, start: "2026-12-24T18:00", end: "2026-12-25T08:00"}
"""


@pytest.fixture
def small(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    assert run("import", str(path)).exit_code == 0


def current(client: redis.Redis) -> Roster:
    roster = RosterStore(client).load()
    assert roster is not None
    return roster


def ok(run: Run, *args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("small")
def test_adding_a_counselor(run: Run, redis_client: redis.Redis) -> None:
    output = ok(
        run,
        *("counselor", "add", "ana", "--name", "Ana Torres", "--phone", "+12025550104"),
        *("--language", "es", "--language", "en", "--priority", "3"),
    )
    assert output == "added counselor ana: Ana Torres …0104 es, en, priority 3\n"
    ana = current(redis_client).by_id["ana"]
    assert (ana.phone, ana.languages, ana.priority, ana.active) == (
        "+12025550104",
        ("es", "en"),
        3,
        True,
    )
    entry = AuditLog(redis_client).recent(1)[0]
    assert entry.who.startswith("cli:")
    assert (entry.action, entry.target, entry.after["phone"]) == ("counselor.add", "ana", "…0104")


@pytest.mark.usefixtures("small")
def test_a_supervisor_is_added_and_made_a_counselor_again(
    run: Run, redis_client: redis.Redis
) -> None:
    output = ok(
        run,
        *("counselor", "add", "rosa", "--name", "Rosa", "--phone", "+12025550120"),
        *("--language", "es", "--role", "supervisor"),
    )
    assert output == "added counselor rosa: Rosa …0120 es, supervisor\n"
    assert current(redis_client).by_id["rosa"].supervises
    ok(run, "counselor", "edit", "rosa", "--role", "counselor")
    assert not current(redis_client).by_id["rosa"].supervises
    refused = run("counselor", "edit", "rosa", "--role", "boss")
    assert refused.exit_code == 2
    assert "'boss' is not one of 'counselor', 'supervisor'" in refused.output


@pytest.mark.usefixtures("small")
def test_editing_a_counselor_changes_only_what_is_given(
    run: Run, redis_client: redis.Redis
) -> None:
    ok(run, "counselor", "edit", "maria", "--no-priority", "--inactive", "--language", "es")
    maria = current(redis_client).by_id["maria"]
    assert (maria.name, maria.priority, maria.active, maria.languages) == (
        "María",
        None,
        False,
        ("es",),
    )
    ok(run, "counselor", "edit", "maria", "--active")
    assert current(redis_client).by_id["maria"].active


@pytest.mark.usefixtures("small")
def test_a_counselor_still_on_a_shift_is_not_removed(run: Run, redis_client: redis.Redis) -> None:
    refused = run("counselor", "remove", "maria")
    assert refused.exit_code == 1
    assert "still on shifts nights" in refused.output
    assert "nothing changed" in refused.output
    ok(run, "shift", "remove", "nights")
    assert ok(run, "counselor", "remove", "maria") == "removed counselor maria\n"
    assert "maria" not in current(redis_client).by_id
    actions = [e.action for e in reversed(AuditLog(redis_client).recent())]
    assert actions == ["roster.import", "shift.remove", "counselor.remove"]


@pytest.mark.usefixtures("small")
def test_shifts_are_added_edited_and_removed_by_id(run: Run, redis_client: redis.Redis) -> None:
    output = ok(
        run,
        *("shift", "add", "lee", "--days", "sat, sun", "--start", "00:00", "--end", "24:00"),
        *("--tz", "America/Phoenix", "--until", "2026-12-31"),
    )
    ident = current(redis_client).shifts[-1].id
    assert output == (
        f"added shift {ident}: lee sat,sun 00:00-24:00 America/Phoenix from … until 2026-12-31\n"
    )
    ok(run, "shift", "edit", ident, "--end", "12:00", "--no-until")
    shift = current(redis_client).shifts[-1]
    assert (shift.id, shift.end, shift.valid_until) == (ident, 12 * 60, None)
    assert f"  {ident:<12} lee" in ok(run, "show")
    ok(run, "shift", "remove", ident)
    assert [s.id for s in current(redis_client).shifts] == ["nights"]


@pytest.mark.usefixtures("small")
def test_overrides_are_added_edited_and_removed_by_id(run: Run, redis_client: redis.Redis) -> None:
    ok(
        run,
        *("override", "add", "maria", "--start", "2026-12-31T18:00", "--end", "2027-01-01T08:00"),
        *("--replaces", "lee", "--note", "New Year", "--id", "new-year"),
    )
    override = current(redis_client).overrides[-1]
    assert (override.id, override.replaces, override.note) == ("new-year", ("lee",), "New Year")
    assert "  new-year     maria" in ok(run, "show")
    ok(run, "override", "edit", "new-year", "--replaces", "", "--no-note")
    override = current(redis_client).overrides[-1]
    assert (override.replaces, override.note) == ((), None)
    ok(run, "override", "remove", "new-year")
    assert [o.id for o in current(redis_client).overrides] == ["xmas"]


REFUSED = [
    # (the option named, the command)
    ("--phone", "counselor add ana --name Ana --phone +1202 -l es"),
    ("--language", "counselor add ana --name Ana --phone +12025550104"),
    ("ID", "counselor add lee --name L --phone +12025550104 -l en"),
    ("--priority", "counselor edit lee --priority -1"),
    ("--days", "shift add lee --days sat,sunday --start 09:00 --end 17:00"),
    ("--start", "shift add lee --days sat --start 9am --end 17:00"),
    ("COUNSELOR", "shift add nobody --days sat --start 09:00 --end 17:00"),
    ("--tz", "shift edit nights --tz Mars/Olympus"),
    ("--from", "shift edit nights --from 2026-13-01"),
    ("--end", "override add lee --start 2026-12-31T18:00 --end noon"),
    ("--replaces", "override edit xmas --replaces pat"),
]


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize(("option", "command"), REFUSED, ids=[o for o, _ in REFUSED])
def test_a_refused_edit_names_the_option_and_changes_nothing(
    run: Run, redis_client: redis.Redis, option: str, command: str
) -> None:
    version = RosterStore(redis_client).version()
    result = run(*command.split())
    assert result.exit_code == 1
    assert any(line.startswith(f"{option}: ") for line in result.stdout.splitlines()), result.output
    assert "nothing changed" in result.stderr
    assert RosterStore(redis_client).version() == version
    assert [e.action for e in AuditLog(redis_client).recent()] == ["roster.import"]  # no more


@pytest.mark.usefixtures("small")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("shift", "edit", "s-nothere", "--end", "07:00"), "no shift 's-nothere'"),
        (("shift", "remove", "xmas"), "no shift 'xmas'"),
        (("override", "remove", "nights"), "no override 'nights'"),
        (("counselor", "edit", "nobody", "--name", "N"), "no counselor 'nobody'"),
    ],
)
def test_unknown_ids_are_refused(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert f"{message}; nothing changed" in result.output


@pytest.mark.usefixtures("small")
def test_the_roster_zone_is_shown_and_changed(run: Run, redis_client: redis.Redis) -> None:
    assert ok(run, "timezone") == "America/New_York\n"
    ok(run, "timezone", "America/Chicago")
    roster = current(redis_client)
    assert roster.timezone == "America/Chicago"
    assert roster.shifts[0].timezone == "America/New_York"  # nothing moved
    assert run("timezone", "Eastern").exit_code == 1


def test_the_first_edit_starts_a_roster(run: Run, redis_client: redis.Redis) -> None:
    ok(run, "counselor", "add", "ana", "--name", "Ana", "--phone", "+12025550104", "-l", "es")
    assert [c.id for c in current(redis_client).counselors] == ["ana"]


def test_show_names_every_shift_and_override_by_id(run: Run, redis_client: redis.Redis) -> None:
    ok(run, "import", str(EXAMPLE))
    output = ok(run, "show")
    roster = current(redis_client)
    named = [(s.id, s.counselor) for s in roster.shifts]
    named += [(o.id, o.counselor) for o in roster.overrides]
    for ident, counselor in named:
        assert f"  {ident:<12} {counselor:<12} " in output
