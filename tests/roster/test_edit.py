"""Editing the roster item by item: each edit obeys the file's rules, names
the field at fault, never loses another editor's change, keeps ids stable,
and leaves an audit entry with the item before and after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from ivr.operators.audit import AuditEntry, AuditLog
from ivr.roster import Roster, RosterStore, dump_yaml, load_roster_file, parse_roster
from ivr.roster.edit import Conflict, FieldProblem, Invalid, NotFound, RosterEditor

WHO = "web:alice"

ROSTER = {
    "timezone": "America/New_York",
    "counselors": [
        {"id": "maria", "name": "María", "phone": "+12025550101", "languages": ["en", "es"]},
        {"id": "sam", "name": "Sam", "phone": "+12025550102", "languages": ["en"], "priority": 2},
        {"id": "lee", "name": "Lee", "phone": "+12025550103", "languages": ["en"]},
    ],
    "shifts": [
        {"id": "nights", "counselor": "maria", "days": ["mon"], "start": "22:00", "end": "06:00"},
        {"counselor": "sam", "days": ["tue", "wed"], "start": "09:00", "end": "17:00"},
    ],
    "overrides": [
        {
            "id": "xmas",
            "counselor": "maria",
            "start": "2026-12-24T18:00",
            "end": "2026-12-25T08:00",
            "replaces": ["sam"],
        }
    ],
}

SHIFT = {"counselor": "lee", "days": ["sat", "sun"], "start": "00:00", "end": "24:00"}
OVERRIDE = {"counselor": "lee", "start": "2026-12-31T18:00", "end": "2027-01-01T08:00"}


@pytest.fixture
def store(redis_client: redis.Redis) -> RosterStore:
    store = RosterStore(redis_client)
    store.save(parse_roster(ROSTER, "test"), source="test")
    return store


@pytest.fixture
def audit(redis_client: redis.Redis) -> AuditLog:
    return AuditLog(redis_client)


@pytest.fixture
def editor(store: RosterStore, audit: AuditLog) -> RosterEditor:
    return RosterEditor(store, audit)


def stored(store: RosterStore) -> Roster:
    roster = RosterStore(store.client).load()  # a fresh reader: what others see
    assert roster is not None
    return roster


def last_entry(audit: AuditLog) -> AuditEntry:
    entries = audit.recent(1)
    assert entries, "nothing was audited"
    return entries[0]


# -- counselors ---------------------------------------------------------------


def test_adding_a_counselor_stores_and_audits_them(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    added = editor.add_counselor(
        {"id": "ana", "name": "Ana", "phone": "+12025550104", "languages": ["es"]}, WHO
    )
    assert added == {
        "id": "ana",
        "name": "Ana",
        "phone": "+12025550104",
        "languages": ["es"],
        "active": True,
        "priority": None,
    }
    assert stored(store).by_id["ana"].languages == ("es",)
    assert editor.counselor("ana") == added
    assert [c["id"] for c in editor.counselors()] == ["maria", "sam", "lee", "ana"]
    entry = last_entry(audit)
    assert (entry.who, entry.action, entry.target, entry.before) == (
        WHO,
        "counselor.add",
        "ana",
        None,
    )
    assert entry.after == added | {"phone": "…0104"}  # never a whole number in the log


def test_updating_a_counselor_changes_only_the_fields_given(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    before = editor.counselor("sam")
    updated = editor.update_counselor("sam", {"name": "Samuel", "priority": None}, WHO)
    assert updated == before | {"name": "Samuel", "priority": None}
    assert stored(store).by_id["sam"].priority is None
    entry = last_entry(audit)
    assert (entry.action, entry.target) == ("counselor.update", "sam")
    assert (entry.before["name"], entry.after["name"]) == ("Sam", "Samuel")
    assert entry.before["phone"] == entry.after["phone"] == "…0102"


def test_a_counselor_can_be_set_inactive_with_their_shifts(
    editor: RosterEditor, store: RosterStore
) -> None:
    editor.update_counselor("maria", {"active": False}, WHO)
    assert stored(store).by_id["maria"].active is False
    assert [s.counselor for s in stored(store).shifts].count("maria") == 1


def test_removing_a_counselor_without_shifts(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    editor.remove_counselor("lee", WHO)
    assert "lee" not in stored(store).by_id
    entry = last_entry(audit)
    assert (entry.action, entry.target, entry.after) == ("counselor.remove", "lee", None)
    assert entry.before["name"] == "Lee"


@pytest.mark.parametrize(
    ("ident", "named"),
    [("maria", ["shifts nights", "overrides xmas"]), ("sam", ["shifts s-", "overrides xmas"])],
)
def test_removing_a_counselor_still_on_shifts_or_overrides_is_refused(
    editor: RosterEditor, store: RosterStore, audit: AuditLog, ident: str, named: list[str]
) -> None:
    version = store.version()
    with pytest.raises(Conflict) as refused:
        editor.remove_counselor(ident, WHO)
    for words in named:
        assert words in str(refused.value)
    assert store.version() == version
    assert audit.recent() == []


def test_a_counselor_id_cannot_be_changed(editor: RosterEditor) -> None:
    with pytest.raises(Invalid) as refused:
        editor.update_counselor("sam", {"id": "samuel"}, WHO)
    assert [p.field for p in refused.value.problems] == ["id"]


# -- shifts and overrides -----------------------------------------------------


def test_adding_a_shift_gives_it_a_new_id(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    added = editor.add_shift(SHIFT, WHO)
    assert added["id"].startswith("s-")
    assert added == SHIFT | {
        "id": added["id"],
        "timezone": "America/New_York",  # always said on the way out
        "valid_from": None,
        "valid_until": None,
    }
    assert stored(store).shifts[-1].id == added["id"]
    assert editor.shifts("lee") == [added]
    assert editor.shift(added["id"]) == added
    entry = last_entry(audit)
    assert (entry.action, entry.target, entry.before, entry.after) == (
        "shift.add",
        added["id"],
        None,
        added,
    )


def test_updating_a_shift_keeps_its_id_and_other_fields(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    updated = editor.update_shift(
        "nights", {"end": "07:00", "timezone": "America/Phoenix", "valid_from": "2026-01-05"}, WHO
    )
    assert updated["id"] == "nights"
    assert (updated["days"], updated["start"], updated["end"]) == (["mon"], "22:00", "07:00")
    shift = stored(store).shifts[0]
    assert (shift.id, shift.end, shift.timezone) == ("nights", 7 * 60, "America/Phoenix")
    cleared = editor.update_shift("nights", {"valid_from": None}, WHO)
    assert cleared["valid_from"] is None
    entry = last_entry(audit)
    assert (entry.action, entry.before["valid_from"], entry.after["valid_from"]) == (
        "shift.update",
        "2026-01-05",
        None,
    )


def test_removing_a_shift(editor: RosterEditor, store: RosterStore, audit: AuditLog) -> None:
    editor.remove_shift("nights", WHO)
    assert "nights" not in [s.id for s in stored(store).shifts]
    entry = last_entry(audit)
    assert (entry.action, entry.target, entry.after) == ("shift.remove", "nights", None)
    assert entry.before["start"] == "22:00"


def test_shifts_of_one_counselor(editor: RosterEditor) -> None:
    assert [s["id"] for s in editor.shifts("maria")] == ["nights"]
    assert len(editor.shifts()) == 2
    with pytest.raises(NotFound, match="no counselor 'nobody'"):
        editor.shifts("nobody")


def test_adding_updating_and_removing_an_override(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    added = editor.add_override(OVERRIDE, WHO)
    assert added == OVERRIDE | {
        "id": added["id"],
        "timezone": "America/New_York",
        "replaces": [],
        "note": None,
    }
    assert added["id"].startswith("o-")
    updated = editor.update_override(added["id"], {"replaces": ["sam"], "note": "New Year"}, WHO)
    assert (updated["replaces"], updated["note"]) == (["sam"], "New Year")
    assert stored(store).overrides[-1].replaces == ("sam",)
    assert [o["id"] for o in editor.overrides()] == ["xmas", added["id"]]
    editor.remove_override(added["id"], WHO)
    assert [o.id for o in stored(store).overrides] == ["xmas"]
    actions = [(e.action, e.target) for e in reversed(audit.recent())]
    assert actions == [(f"override.{verb}", added["id"]) for verb in ("add", "update", "remove")]


def test_an_id_given_for_a_new_shift_is_kept_if_unused(editor: RosterEditor) -> None:
    assert editor.add_shift(SHIFT | {"id": "weekend"}, WHO)["id"] == "weekend"
    with pytest.raises(Invalid) as refused:
        editor.add_shift(SHIFT | {"id": "xmas"}, WHO)  # one namespace with overrides
    assert [p.field for p in refused.value.problems] == ["id"]


Edit = Callable[[RosterEditor], object]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.counselor("nobody"), "no counselor 'nobody'"),
        (lambda e: e.update_counselor("nobody", {"name": "X"}, WHO), "no counselor 'nobody'"),
        (lambda e: e.remove_counselor("nobody", WHO), "no counselor 'nobody'"),
        (lambda e: e.shift("s-none"), "no shift 's-none'"),
        (lambda e: e.update_shift("s-none", {"end": "07:00"}, WHO), "no shift 's-none'"),
        (lambda e: e.remove_shift("s-none", WHO), "no shift 's-none'"),
        (lambda e: e.override("nights"), "no override 'nights'"),
        (lambda e: e.update_override("o-none", {"note": "x"}, WHO), "no override 'o-none'"),
        (lambda e: e.remove_override("o-none", WHO), "no override 'o-none'"),
    ],
)
def test_unknown_ids_are_not_found(editor: RosterEditor, edit: Edit, message: str) -> None:
    with pytest.raises(NotFound, match=message):
        edit(editor)


# -- validation ---------------------------------------------------------------

ANA = {"id": "ana", "name": "Ana", "phone": "+12025550104", "languages": ["es"]}

INVALID: list[tuple[str, Edit, str, str]] = [
    # (what, the edit, the field named, words of the message)
    ("bad phone", lambda e: e.add_counselor(ANA | {"phone": "+1202"}, WHO), "phone", "E.164"),
    (
        "phone of another counselor",
        lambda e: e.update_counselor("lee", {"phone": "+12025550101"}, WHO),
        "phone",
        "already counselor 'maria'",
    ),
    ("missing name", lambda e: e.add_counselor(ANA | {"name": None}, WHO), "name", "missing"),
    ("no id", lambda e: e.add_counselor(ANA | {"id": None}, WHO), "id", "missing 'id'"),
    ("taken id", lambda e: e.add_counselor(ANA | {"id": "sam"}, WHO), "id", "duplicate"),
    ("language", lambda e: e.add_counselor(ANA | {"languages": ["Spanish"]}, WHO), "languages", ""),
    ("unknown field", lambda e: e.add_counselor(ANA | {"email": "a@b"}, WHO), "email", "unknown"),
    (
        "unknown time zone",
        lambda e: e.add_shift(SHIFT | {"timezone": "Mars/Olympus"}, WHO),
        "timezone",
        "unknown time zone 'Mars/Olympus'",
    ),
    (
        "unknown counselor",
        lambda e: e.add_shift(SHIFT | {"counselor": "nobody"}, WHO),
        "counselor",
        "unknown counselor 'nobody'",
    ),
    ("bad day", lambda e: e.add_shift(SHIFT | {"days": ["sat", "sunday"]}, WHO), "days", "day"),
    ("days not a list", lambda e: e.add_shift(SHIFT | {"days": "sat"}, WHO), "days", "list"),
    ("no days", lambda e: e.add_shift(SHIFT | {"days": []}, WHO), "days", "at least one"),
    ("malformed start", lambda e: e.add_shift(SHIFT | {"start": "9am"}, WHO), "start", "HH:MM"),
    (
        "malformed end on update",
        lambda e: e.update_shift("nights", {"end": "25:00"}, WHO),
        "end",
        "HH:MM",
    ),
    (
        "bad date",
        lambda e: e.update_shift("nights", {"valid_until": "2026-02-30"}, WHO),
        "valid_until",
        "YYYY-MM-DD",
    ),
    (
        "malformed override time",
        lambda e: e.add_override(OVERRIDE | {"end": "tomorrow"}, WHO),
        "end",
        "YYYY-MM-DDTHH:MM",
    ),
    (
        "override backwards",
        lambda e: e.add_override(OVERRIDE | {"end": "2026-12-30T08:00"}, WHO),
        "end",
        "ends before it starts",
    ),
    (
        "replacing an unknown counselor",
        lambda e: e.update_override("xmas", {"replaces": ["sam", "pat"]}, WHO),
        "replaces",
        "unknown counselor 'pat'",
    ),
    ("not an object", lambda e: e.add_shift(["lee"], WHO), "", "object"),  # type: ignore[arg-type]
    ("roster zone", lambda e: e.set_timezone("Eastern", WHO), "timezone", "unknown time zone"),
]


@pytest.mark.parametrize(
    ("edit", "field", "words"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
def test_an_invalid_edit_names_the_field_and_changes_nothing(
    editor: RosterEditor,
    store: RosterStore,
    audit: AuditLog,
    edit: Edit,
    field: str,
    words: str,
) -> None:
    version = store.version()
    with pytest.raises(Invalid) as refused:
        edit(editor)
    assert field in [p.field for p in refused.value.problems], refused.value.problems
    assert any(words in p.message for p in refused.value.problems if p.field == field)
    assert store.version() == version
    assert audit.recent() == []


def test_every_problem_is_listed() -> None:
    problems = [FieldProblem("phone", "bad"), FieldProblem("", "whole")]
    assert str(Invalid(problems)) == "phone: bad; whole"


# -- two editors at once ------------------------------------------------------


class RacingStore(RosterStore):
    """A store in which, just before this editor saves, someone else does."""

    def __init__(self, client: redis.Redis, others: list[Callable[[], object]]) -> None:
        super().__init__(client)
        self.others = others

    def save_if(self, roster: Roster, expected_version: int, source: str = "") -> int | None:
        if self.others:
            self.others.pop(0)()
        return super().save_if(roster, expected_version, source)


def test_an_edit_that_loses_a_race_is_made_again_and_both_survive(
    redis_client: redis.Redis, store: RosterStore, audit: AuditLog
) -> None:
    other = RosterEditor(RosterStore(redis_client), audit)
    racing = RosterEditor(
        RacingStore(redis_client, [lambda: other.update_counselor("sam", {"name": "Samuel"}, "b")]),
        audit,
    )
    version = store.version()
    racing.update_counselor("lee", {"name": "Leigh"}, "a")
    roster = stored(store)
    assert (roster.by_id["sam"].name, roster.by_id["lee"].name) == ("Samuel", "Leigh")
    assert store.version() == version + 2
    assert [(e.who, e.target) for e in reversed(audit.recent())] == [("b", "sam"), ("a", "lee")]


def test_an_edit_retried_on_a_race_sees_the_other_change(
    redis_client: redis.Redis, store: RosterStore, audit: AuditLog
) -> None:
    other = RosterEditor(RosterStore(redis_client), audit)
    racing = RosterEditor(
        RacingStore(redis_client, [lambda: other.remove_shift("nights", "b")]), audit
    )
    with pytest.raises(NotFound, match="no shift 'nights'"):
        racing.update_shift("nights", {"end": "07:00"}, "a")
    assert "nights" not in [s.id for s in stored(store).shifts]


def test_losing_the_race_twice_is_a_conflict(
    redis_client: redis.Redis, store: RosterStore, audit: AuditLog
) -> None:
    other = RosterEditor(RosterStore(redis_client), audit)
    names = iter(["Sammy", "Samuel"])
    racing = RosterEditor(
        RacingStore(
            redis_client,
            [lambda: other.update_counselor("sam", {"name": next(names)}, "b")] * 2,
        ),
        audit,
    )
    with pytest.raises(Conflict, match="try again"):
        racing.update_counselor("lee", {"name": "Leigh"}, "a")
    roster = stored(store)
    assert (roster.by_id["sam"].name, roster.by_id["lee"].name) == ("Samuel", "Lee")
    assert [e.who for e in audit.recent()] == ["b", "b"]


# -- ids across export and import ---------------------------------------------


def test_ids_survive_an_export_and_an_import(
    editor: RosterEditor, store: RosterStore, tmp_path: Path
) -> None:
    shift = editor.add_shift(SHIFT, WHO)
    override = editor.add_override(OVERRIDE, WHO)
    before = stored(store)
    exported = tmp_path / "roster.yaml"
    exported.write_text(dump_yaml(before), encoding="utf-8")
    again = load_roster_file(exported)
    assert again == before
    assert [s.id for s in again.shifts] == [s.id for s in before.shifts]
    store.save(again, source=str(exported))
    assert editor.shift(shift["id"]) == shift
    assert editor.override(override["id"]) == override


def test_an_id_less_roster_keeps_its_ids_once_stored(
    editor: RosterEditor, store: RosterStore
) -> None:
    made = stored(store).shifts[1].id  # the file gave sam's shift none
    assert made.startswith("s-")
    editor.update_shift(made, {"start": "08:00"}, WHO)
    editor.update_counselor("sam", {"name": "Samuel"}, WHO)
    assert editor.shift(made)["start"] == "08:00"


# -- the roster as a whole ----------------------------------------------------


def test_the_first_edit_starts_a_roster_in_the_default_zone(
    redis_client: redis.Redis, audit: AuditLog
) -> None:
    editor = RosterEditor(RosterStore(redis_client), audit, default_timezone="Europe/Madrid")
    assert editor.counselors() == []
    assert editor.timezone() == "Europe/Madrid"
    editor.add_counselor(ANA, WHO)
    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert (roster.timezone, [c.id for c in roster.counselors]) == ("Europe/Madrid", ["ana"])


def test_changing_the_roster_zone_moves_no_shift(
    editor: RosterEditor, store: RosterStore, audit: AuditLog
) -> None:
    before = stored(store)
    assert editor.set_timezone("America/Chicago", WHO) == "America/Chicago"
    after = stored(store)
    assert after.timezone == "America/Chicago"
    assert after.shifts == before.shifts
    assert after.overrides == before.overrides
    assert editor.shift("nights")["timezone"] == "America/New_York"
    entry = last_entry(audit)
    assert (entry.action, entry.before, entry.after) == (
        "roster.timezone",
        "America/New_York",
        "America/Chicago",
    )


def test_each_save_says_who_made_it(editor: RosterEditor, store: RosterStore) -> None:
    editor.remove_shift("nights", WHO)
    saved = RosterStore(store.client).load_stored()
    assert saved is not None
    assert saved.source == f"{WHO} (shift.remove nights)"


def test_plain_values_are_what_comes_out(editor: RosterEditor) -> None:
    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | bool)

    assert plain([editor.counselors(), editor.shifts(), editor.overrides()])
