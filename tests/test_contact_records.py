"""A record of every contact and its wrap-up, as stored (issue 19): once per
source, a wrap-up due for the counselor who handled it, and a wrap-up refused
beside its field when it is not one the lists allow."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.contacts.records import NOTE_MAX, Contacts, WrapUp, WrapUpLists, WrapUpRefused
from ivr.operators.audit import AuditLog
from tests.conftest import RedisServer, cli_environment

LISTS = WrapUpLists(
    dispositions=frozenset({"information", "support", "crisis_support"}),
    risks=frozenset({"none", "low", "moderate", "high", "imminent"}),
    referrals=frozenset({"988", "prescriber", "taper_clinic"}),
)


def contacts(client: redis.Redis) -> Contacts:
    return Contacts(client, 3600)


def answered_call(store: Contacts, source: str = "dispatch:D1", counselor: str = "alex") -> str:
    now = time.time()
    contact_id, _ = store.record(
        source, channel="call", language="es", started=now - 100, answered=now - 70,
        ended=now, outcome="answered", counselor=counselor,
    )  # fmt: skip
    return contact_id


def test_a_contact_is_recorded_once_per_source_with_its_times(redis_client: redis.Redis) -> None:
    store = contacts(redis_client)
    contact_id = answered_call(store)
    again, new = store.record(
        "dispatch:D1", channel="call", language="es", started=0, ended=1, outcome="abandoned"
    )
    assert (again, new) == (contact_id, False)
    contact = store.get(contact_id)
    assert contact is not None
    assert (contact.channel, contact.outcome, contact.counselor) == ("call", "answered", "alex")
    assert contact.waited_seconds == pytest.approx(30, abs=0.01)
    assert contact.talked_seconds == pytest.approx(70, abs=0.01)
    assert contact.wrapup_due
    assert [c.id for c in store.between(time.time() - 200, time.time())] == [contact_id]


def test_an_abandoned_call_has_no_counselor_and_no_wrap_up(redis_client: redis.Redis) -> None:
    store = contacts(redis_client)
    now = time.time()
    contact_id, _ = store.record(
        "dispatch:D2", channel="call", language="en", started=now - 40, ended=now,
        outcome="abandoned",
    )  # fmt: skip
    contact = store.get(contact_id)
    assert contact is not None
    assert not contact.wrapup_due
    assert contact.talked_seconds is None
    assert contact.waited_seconds == pytest.approx(40, abs=0.01)


def test_a_wrap_up_clears_the_due_list(redis_client: redis.Redis) -> None:
    store = contacts(redis_client)
    first = answered_call(store, "dispatch:D1")
    second = answered_call(store, "dispatch:D2")
    assert [c.id for c in store.wrapups_due("alex")] == [first, second]
    assert store.overdue("alex", grace_seconds=0, now=time.time() + 1) == 2
    assert store.overdue("alex", grace_seconds=600) == 0
    done = store.wrap_up(
        first,
        "alex",
        WrapUp(("support", "support"), "low", ("988",), "Tapering with her doctor; call Friday."),
        LISTS,
    )
    assert (done.dispositions, done.risk, done.referrals) == (("support",), "low", ("988",))
    assert store.get(first) == done
    assert [c.id for c in store.wrapups_due("alex")] == [second]


@pytest.mark.parametrize(
    ("wrap", "field"),
    [
        (WrapUp((), "low"), "dispositions"),
        (WrapUp(("gossip",), "low"), "dispositions"),
        (WrapUp(("support",), ""), "risk"),
        (WrapUp(("support",), "low", ("9,88",)), "referrals"),
        (WrapUp(("support",), "low", (), "x" * (NOTE_MAX + 1)), "note"),
    ],
)
def test_a_wrap_up_the_lists_do_not_allow_changes_nothing(
    redis_client: redis.Redis, wrap: WrapUp, field: str
) -> None:
    store = contacts(redis_client)
    contact_id = answered_call(store)
    before = store.get(contact_id)
    with pytest.raises(WrapUpRefused) as refused:
        store.wrap_up(contact_id, "alex", wrap, LISTS)
    assert refused.value.field == field
    assert store.get(contact_id) == before


def test_hostile_words_in_a_note_are_kept_as_written(redis_client: redis.Redis) -> None:
    store = contacts(redis_client)
    contact_id = answered_call(store)
    note = "<img src=x onerror=alert(1)> ',\"; DROP TABLE -- \u202e \U0001f494"
    store.wrap_up(contact_id, "alex", WrapUp(("support",), "none", (), note), LISTS)
    contact = store.get(contact_id)
    assert contact is not None
    assert contact.note == note


def test_the_cli_lists_contacts_without_notes_and_shows_one_audited(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    store = Contacts(redis_client, 86400)
    contact_id = answered_call(store)
    store.wrap_up(
        contact_id,
        "alex",
        WrapUp(("support",), "low", ("988",), "call back Friday\x1b]0;owned\x07"),
        LISTS,
    )
    env = {**cli_environment(redis_server.url, tmp_path), "LOGNAME": "dana"}
    listed = CliRunner().invoke(main, ["contacts", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert contact_id in listed.output
    assert "answered" in listed.output
    assert "Friday" not in listed.output
    as_json = CliRunner().invoke(main, ["contacts", "list", "--json", "--channel", "call"], env=env)
    assert json.loads(as_json.output.splitlines()[0])["id"] == contact_id
    assert "note" not in json.loads(as_json.output.splitlines()[0])
    shown = CliRunner().invoke(main, ["contacts", "show", contact_id], env=env)
    assert shown.exit_code == 0, shown.output
    # A note's control characters are shown, never obeyed by the terminal.
    assert "note: call back Friday\\x1b]0;owned\\x07" in shown.output
    assert "\x1b" not in shown.output
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "contact.view", contact_id)
    assert CliRunner().invoke(main, ["contacts", "show", "CT-NOPE22"], env=env).exit_code == 1


def test_a_call_answered_on_a_later_try_gets_its_counselor_and_wrap_up(
    redis_client: redis.Redis,
) -> None:
    store = contacts(redis_client)
    now = time.time()
    contact_id, _ = store.record(
        "call:CA1", channel="call", language="en", started=now - 60, ended=now - 30,
        outcome="unanswered",
    )  # fmt: skip
    assert store.settle("call:CA1", "answered", counselor="blanca", answered=now - 20)
    contact = store.get(contact_id)
    assert contact is not None
    assert (contact.outcome, contact.counselor, contact.wrapup_due) == ("answered", "blanca", True)
    assert [c.id for c in store.wrapups_due("blanca")] == [contact_id]


def test_a_contact_whose_writer_died_after_naming_it_is_written_by_the_next(
    redis_client: redis.Redis,
) -> None:
    store = contacts(redis_client)
    redis_client.set("contact:source:call:CA9", "CT-DEAD22")  # named, never written
    contact_id, new = store.record(
        "call:CA9", channel="call", language="en", started=1.0, ended=2.0, outcome="abandoned"
    )
    assert (contact_id, new) == ("CT-DEAD22", True)
    assert store.get("CT-DEAD22") is not None


def test_the_csv_export_round_trips_with_the_same_counts_and_no_note_unless_asked(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    store = Contacts(redis_client, 86400)
    answered = answered_call(store, "dispatch:D1")
    answered_call(store, "dispatch:D2", counselor="blanca")
    now = time.time()
    store.record("thread:T1", channel="text", language="es", started=now - 5, ended=now,
                 outcome="unanswered")  # fmt: skip
    store.wrap_up(
        answered, "alex", WrapUp(("support",), "low", (), '=HYPERLINK("x") Friday'), LISTS
    )
    env = {**cli_environment(redis_server.url, tmp_path), "LOGNAME": "dana"}
    plain = CliRunner().invoke(main, ["contacts", "export"], env=env)
    assert plain.exit_code == 0, plain.output
    rows = list(csv.DictReader(io.StringIO(plain.output)))
    assert len(rows) == 3
    assert Counter(r["channel"] for r in rows) == Counter({"call": 2, "text": 1})
    assert Counter(r["outcome"] for r in rows) == Counter({"answered": 2, "unanswered": 1})
    assert "note" not in rows[0]
    assert "Friday" not in plain.output
    assert not any("+1202" in value for r in rows for value in r.values())  # no numbers
    with_notes = CliRunner().invoke(main, ["contacts", "export", "--notes", "--channel", "call"],
                                    env=env)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(with_notes.output)))
    assert len(rows) == 2
    (noted,) = [r for r in rows if r["id"] == answered]
    assert noted["note"] == '\'=HYPERLINK("x") Friday'  # never run as a formula
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action) == ("cli:dana", "contacts.export_notes")


def test_a_wrap_up_whose_contact_is_gone_holds_nobody_back(redis_client: redis.Redis) -> None:
    """Only wrapups_due pruned the due list, and the worker never reads it: a
    contact expired (or wrapped up another way) kept counting as overdue and
    kept a counselor from new work and its alerts."""
    store = contacts(redis_client)
    kept, gone = answered_call(store, "dispatch:D1"), answered_call(store, "dispatch:D2")
    assert store.overdue("alex", 0, now=time.time() + 1) == 2
    redis_client.delete(f"contact:{gone}")  # expired with the retention
    assert store.overdue("alex", 0, now=time.time() + 1) == 1
    assert redis_client.zrange("contacts:wrapups:alex", 0, -1) == [kept.encode()]
