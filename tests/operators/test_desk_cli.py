"""`helpline conversations list|show` and `helpline contacts wrapup` against a
real Redis: the desk from a terminal. The list shows references, states and
holders, never a number or words; reading a conversation is audited as
"cli:<os user>" with the desk's `conversation.view`; a wrap-up goes through
the desk's own code, and a code flows/wrapup.yaml does not list is a usage
error naming its option that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
import redis

from ivr.contacts.records import NOTE_MAX, Contacts
from ivr.operators.audit import AuditLog
from ivr.threads.store import Threads
from tests.conftest import RedisServer
from tests.operators.test_status_cli import SECRET_KEY, Run, _environment, _runner

WAITING_TEXTER, HELD_TEXTER = "+12025550171", "+12025550172"
# A list shows not even the last four.
EVERY_DIGITS = ("2025550171", "2025550172", "0171", "0172")
WORDS = "i can't sleep and i'm scared"


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    return _runner(_environment(redis_server.url, tmp_path))


@pytest.fixture
def threads(redis_client: redis.Redis) -> Threads:
    """One conversation waiting, one Alex holds; the texters' words in each."""
    store = Threads(redis_client, SECRET_KEY, 3600)
    store.open(WAITING_TEXTER, "es", "TX-WAIT22")
    store.hear("TX-WAIT22", WORDS)
    store.open(HELD_TEXTER, "en", "TX-HELD22")
    store.hear("TX-HELD22", WORDS)
    assert store.claim("TX-HELD22", "alex") == "won"
    store.say("TX-HELD22", "alex", "Hi, Alex here.")
    return store


def no_number_or_words(output: str) -> None:
    for digits in EVERY_DIGITS:
        assert digits not in output
    assert "scared" not in output


def test_conversations_list_shows_reference_state_since_and_holder_only(
    run: Run, threads: Threads, redis_client: redis.Redis
) -> None:
    listed = run("conversations", "list")
    assert listed.exit_code == 0, listed.output
    waiting, held = listed.output.splitlines()
    assert waiting.startswith("TX-WAIT22  waiting es ")
    assert "held by -" in waiting
    assert held.startswith("TX-HELD22  held    en ")
    assert " UTC" in held
    assert held.endswith("held by alex")
    no_number_or_words(listed.output)
    as_json = run("conversations", "list", "--json")
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [(r["id"], r["state"], r["holder"]) for r in rows] == [
        ("TX-WAIT22", "waiting", ""), ("TX-HELD22", "held", "alex"),
    ]  # fmt: skip
    assert not {"number", "messages", "body"} & set(rows[0])
    no_number_or_words(as_json.output)
    assert AuditLog(redis_client).recent(5) == []  # no words read: nothing to audit


def test_conversations_list_says_when_there_are_none(run: Run) -> None:
    listed = run("conversations", "list")
    assert (listed.exit_code, listed.output) == (0, "No open conversations.\n")


def test_conversations_show_prints_the_words_audited_as_the_terminals_user(
    run: Run, threads: Threads, redis_client: redis.Redis
) -> None:
    threads.hear("TX-HELD22", "still up\x1b]0;pwned\x07 sorry")
    shown = run("conversations", "show", "TX-HELD22")
    assert shown.exit_code == 0, shown.output
    assert WORDS in shown.output
    assert "Hi, Alex here." in shown.output
    assert "number: …0172" in shown.output  # masked, as everywhere
    assert "2025550172" not in shown.output
    assert "\x1b" not in shown.output  # a texter's escape sequence is shown, not obeyed
    assert "still up\\x1b]0;pwned\\x07 sorry" in shown.output
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "conversation.view", "TX-HELD22")


def test_conversations_show_of_no_such_conversation_is_an_error(
    run: Run, redis_client: redis.Redis
) -> None:
    shown = run("conversations", "show", "TX-NOPE22")
    assert shown.exit_code == 1
    assert "no conversation TX-NOPE22" in shown.output
    assert AuditLog(redis_client).recent(5) == []


@pytest.fixture
def contacts(redis_client: redis.Redis) -> Contacts:
    return Contacts(redis_client, 3600)


@pytest.fixture
def due(contacts: Contacts) -> str:
    """A call Alex answered: Alex's wrap-up is due."""
    contact_id, _ = contacts.record(
        "dispatch:D1", channel="call", language="en", started=1000.0, answered=1010.0,
        ended=1100.0, outcome="answered", counselor="alex",
    )  # fmt: skip
    return contact_id


WRAP = (
    "--disposition", "emotional_support", "--disposition", "withdrawal", "--risk", "low",
    "--referral", "lifeline_988", "--note", "Shaky; call back Friday.", "--by", "alex",
)  # fmt: skip


def test_contacts_wrapup_records_it_as_the_desk_does_audited(
    run: Run, contacts: Contacts, due: str, redis_client: redis.Redis
) -> None:
    done = run("contacts", "wrapup", due, *WRAP)
    assert done.exit_code == 0, done.output
    assert done.output == (
        f"{due} wrapped up for alex: emotional_support, withdrawal; risk low; "
        "referrals lifeline_988\n"
    )
    contact = contacts.get(due)
    assert contact is not None
    assert (contact.wrapup_due, contact.wrapup_by, contact.risk) == (False, "alex", "low")
    assert contact.dispositions == ("emotional_support", "withdrawal")
    assert contact.note == "Shaky; call back Friday."
    assert contacts.wrapups_due("alex") == []
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "contact.wrapup", due)
    assert entry.after["by"] == "alex"
    assert "Friday" not in json.dumps(entry.after)  # the note never reaches the audit log


def _changed(options: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    """WRAP with OPTION's (first) value replaced by VALUE."""
    at = options.index(option)
    return (*options[: at + 1], value, *options[at + 2 :])


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (_changed(WRAP, "--disposition", "gossip"), "--disposition"),
        (_changed(WRAP, "--risk", "severe"), "--risk"),
        (_changed(WRAP, "--referral", "pizza_place"), "--referral"),
        (_changed(WRAP, "--note", "x" * (NOTE_MAX + 1)), "--note"),
        (_changed(WRAP, "--by", "blanca"), "--by"),  # not the counselor who handled it
        (_changed(WRAP, "--by", ""), "--by"),
        (WRAP[4:], "--disposition"),  # none at all
    ],
    ids=["disposition", "risk", "referral", "note", "another-counselor", "nobody", "missing"],
)
def test_contacts_wrapup_refuses_a_bad_value_naming_its_option_and_changes_nothing(
    run: Run, due: str, redis_client: redis.Redis, args: tuple[str, ...], option: str
) -> None:
    before = cast("dict[bytes, bytes]", redis_client.hgetall(f"contact:{due}"))
    refused = run("contacts", "wrapup", due, *args)
    assert refused.exit_code == 2, refused.output
    assert f"'{option}'" in refused.output
    assert redis_client.hgetall(f"contact:{due}") == before
    assert [c.id for c in Contacts(redis_client, 3600).wrapups_due("alex")] == [due]
    assert AuditLog(redis_client).recent(5) == []


def test_contacts_wrapup_of_no_such_contact_is_an_error(
    run: Run, redis_client: redis.Redis
) -> None:
    refused = run("contacts", "wrapup", "CT-NOPE22", *WRAP)
    assert refused.exit_code == 1
    assert "no contact CT-NOPE22" in refused.output
    assert AuditLog(redis_client).recent(5) == []
