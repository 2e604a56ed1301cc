"""The desk's lists in the API (issue 19) for each kind of token: a
counselor's sees only what is offered to them (conversations waiting) and
their own work (those they hold, the contacts they handled, their wrap-ups
due); a viewer's or an admin's sees everything. Never a number or a word in
a list; a bad query is a 422 naming its field."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from ivr.contacts.records import Contacts, WrapUp
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.counselor_desk import wrapup_lists
from ivr.web.api.registry import openapi_document
from ivr.web.api.routes import PREFIX, VERSION
from tests.api.conftest import Tokens

WAITING, ALEXS, BLANCAS, CLOSED = "TX-WAIT22", "TX-ALEX22", "TX-BLAN22", "TX-DONE22"
NUMBERS = {WAITING: "+12025550161", ALEXS: "+12025550162", BLANCAS: "+12025550163",
           CLOSED: "+12025550164"}  # fmt: skip
WORDS = "i can't sleep and i'm scared"


@dataclass(frozen=True)
class Counselors:
    alex: str
    blanca: str


@pytest.fixture
def counselors(redis_client: redis.Redis) -> Counselors:
    accounts = Accounts(redis_client)
    _, alex = accounts.create_token("alex.r", "counselor", counselor="alex")
    _, blanca = accounts.create_token("blanca.r", "counselor", counselor="blanca")
    return Counselors(alex, blanca)


def line_of(app: Flask) -> Line:
    found: Line = app.extensions["helpline"]
    return found


def get(api: FlaskClient, token: str, path: str, **query: str) -> tuple[int, str, Any]:
    answer = api.get(
        PREFIX + path, query_string=query, headers={"Authorization": f"Bearer {token}"}
    )
    return answer.status_code, answer.get_data(as_text=True), answer.get_json(silent=True)


def ids(answer: Any) -> set[str]:
    assert isinstance(answer, list), answer
    return {row["id"] for row in answer}


@pytest.fixture
def threads(app: Flask, api: FlaskClient) -> None:
    """One waiting, one Alex holds, one Blanca holds, one closed; words in each."""
    store = line_of(app).threads
    for thread_id, number in NUMBERS.items():
        assert store.open(number, "en", thread_id) == (thread_id, True)
        store.hear(thread_id, WORDS)
    assert store.claim(ALEXS, "alex") == "won"
    assert store.claim(BLANCAS, "blanca") == "won"
    assert store.claim(CLOSED, "blanca") == "won"
    assert store.close(CLOSED, "blanca", "done")


def no_number_or_words(said: str) -> None:
    for number in NUMBERS.values():
        assert number[-4:] not in said  # not even masked
    assert "scared" not in said


@pytest.mark.usefixtures("threads")
def test_a_counselors_token_lists_what_is_offered_and_what_they_hold_only(
    api: FlaskClient, counselors: Counselors
) -> None:
    status, said, listed = get(api, counselors.alex, "/conversations")
    assert status == 200
    assert ids(listed) == {WAITING, ALEXS}
    assert {row["id"]: row["holder"] for row in listed} == {WAITING: "", ALEXS: "alex"}
    assert "blanca" not in said  # who holds the rest is not theirs to know
    no_number_or_words(said)
    _, said, listed = get(api, counselors.blanca, "/conversations")
    assert ids(listed) == {WAITING, BLANCAS}
    assert "alex" not in said


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize("who", ["admin", "viewer"])
def test_a_viewers_or_an_admins_token_lists_every_open_conversation(
    api: FlaskClient, tokens: Tokens, who: str
) -> None:
    status, said, listed = get(api, getattr(tokens, who), "/conversations")
    assert status == 200
    assert ids(listed) == {WAITING, ALEXS, BLANCAS}
    no_number_or_words(said)


@pytest.mark.usefixtures("threads")
def test_a_counselors_token_still_reads_only_the_conversation_it_holds(
    api: FlaskClient, counselors: Counselors
) -> None:
    assert get(api, counselors.alex, f"/conversations/{ALEXS}")[0] == 200
    assert get(api, counselors.alex, f"/conversations/{BLANCAS}")[0] == 403
    assert get(api, counselors.alex, f"/conversations/{WAITING}")[0] == 403


def some_contacts(app: Flask) -> dict[str, str]:
    """Alex's: one due now, one due for two days (overdue, out of the last
    24 hours), one wrapped up with a note; Blanca's, due; an abandoned call."""
    store: Contacts = line_of(app).contacts
    now = time.time()
    made: dict[str, str] = {}
    for name, counselor, ended in [
        ("alex_due", "alex", now - 60),
        ("alex_old", "alex", now - 2 * 86400),
        ("alex_done", "alex", now - 120),
        ("blanca_due", "blanca", now - 3600),
        ("abandoned", "", now - 30),
    ]:
        made[name], _ = store.record(
            f"call:{name}", channel="call", language="en", started=ended - 100,
            answered=ended - 80 if counselor else None, ended=ended,
            outcome="answered" if counselor else "abandoned", counselor=counselor,
        )  # fmt: skip
    wrap = WrapUp(("emotional_support",), "low", (), "call back Friday")
    store.wrap_up(made["alex_done"], "alex", wrap, wrapup_lists(line_of(app).content))
    return made


def test_a_counselors_token_lists_only_the_contacts_they_handled(
    app: Flask, api: FlaskClient, counselors: Counselors, tokens: Tokens
) -> None:
    made = some_contacts(app)
    status, said, listed = get(api, counselors.alex, "/contacts")
    assert status == 200
    assert ids(listed) == {made["alex_due"], made["alex_done"]}  # the last 24 hours
    assert "Friday" not in said  # a list never carries a note
    assert "blanca" not in said
    _, _, listed = get(api, counselors.blanca, "/contacts", hours="72")
    assert ids(listed) == {made["blanca_due"]}
    _, _, listed = get(api, tokens.viewer, "/contacts")
    assert ids(listed) == {made["alex_due"], made["alex_done"], made["blanca_due"],
                           made["abandoned"]}  # fmt: skip


def test_another_counselors_contacts_are_refused_or_absent(
    app: Flask, api: FlaskClient, counselors: Counselors
) -> None:
    made = some_contacts(app)
    for query in ({}, {"hours": "9600"}, {"wrapup": "due"}, {"wrapup": "overdue"},
                  {"channel": "call", "hours": "72"}):  # fmt: skip
        _, said, listed = get(api, counselors.blanca, "/contacts", **query)
        # Hers, due an hour (past the 900 s grace), is in every one of them.
        assert ids(listed) == {made["blanca_due"]}, query
        assert made["abandoned"] not in said  # nobody's is not theirs either
    status, said, _ = get(api, counselors.blanca, f"/contacts/{made['alex_done']}")
    assert status == 403
    assert "Friday" not in said
    assert get(api, counselors.blanca, "/contacts.csv")[0] == 403  # the admin log's export


def test_a_counselors_wrap_ups_due_and_overdue_however_old(
    app: Flask, api: FlaskClient, counselors: Counselors, tokens: Tokens
) -> None:
    made = some_contacts(app)
    status, _, due = get(api, counselors.alex, "/contacts", wrapup="due")
    assert status == 200
    assert ids(due) == {made["alex_due"], made["alex_old"]}  # older than a day, still due
    _, _, overdue = get(api, counselors.alex, "/contacts", wrapup="overdue")
    assert ids(overdue) == {made["alex_old"]}  # past HELPLINE_WRAPUP_GRACE_SECONDS (900)
    assert [row["wrapup_overdue"] for row in overdue] == [True]
    _, _, recent = get(api, counselors.alex, "/contacts", wrapup="due", hours="1")
    assert ids(recent) == {made["alex_due"]}
    _, _, every = get(api, tokens.admin, "/contacts", wrapup="due")
    assert ids(every) == {made["alex_due"], made["alex_old"], made["blanca_due"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"wrapup": "soon"}, "wrapup"),
        ({"hours": "0"}, "hours"),
        ({"hours": "many"}, "hours"),
        ({"hours": "99999999999999999999"}, "hours"),
        ({"channel": "fax"}, "channel"),
        ({"counselor": "blanca"}, "counselor"),  # no such filter: not a way in
    ],
)
def test_a_bad_query_is_refused_beside_its_field(
    api: FlaskClient, counselors: Counselors, query: dict[str, str], field: str
) -> None:
    status, _, said = get(api, counselors.alex, "/contacts", **query)
    assert status == 422
    assert isinstance(said, dict)
    assert [f["field"] for f in said["error"]["fields"]] == [field]
    assert said["error"]["fields"][0]["message"]


def test_the_document_states_what_each_token_gets() -> None:
    paths = openapi_document(PREFIX, VERSION)["paths"]
    listed = paths[PREFIX + "/conversations"]["get"]["description"]
    assert "Any token" in listed
    assert "a counselor's, only those waiting for someone" in listed
    contacts = paths[PREFIX + "/contacts"]["get"]
    assert "a counselor's, only the contacts they handled" in contacts["description"]
    assert {p["name"] for p in contacts["parameters"]} == {"hours", "channel", "wrapup"}
    assert paths[PREFIX + "/contacts.csv"]["get"].get("description") is None  # viewers
