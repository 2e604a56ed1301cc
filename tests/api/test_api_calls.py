"""The API's live-call, voicemail and callback operations, and the edges a
review found: far-off times, a broken stored roster, a reopened callback,
concurrent PATCHes, and what viewers may not see."""

from __future__ import annotations

import json

import redis
from flask.testing import FlaskClient

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.voicemail import store_voicemail
from ivr.content.model import Content
from ivr.operators.audit import AuditLog
from ivr.platform.config import Settings
from ivr.roster.edit import RosterEditor
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from tests.api.conftest import Tokens

PREFIX = "/api/v1"


def test_live_calls_list_waiting_and_connected_callers_masked(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    dispatches = Dispatches(redis_client, 3600)
    waiting, _ = dispatches.open_for_call("CA" + "1" * 32, "+12025550161", "es", "counselor")
    talking, _ = dispatches.open_for_call("CA" + "2" * 32, "+12025550162", "en", "counselor")
    leg = dispatches.add_leg(talking.id, "alex", 1)
    assert leg is not None
    assert dispatches.claim(talking.id, leg) == "won"
    calls = api.get(PREFIX + "/calls", headers=tokens.header("viewer")).get_json()
    shown = {c["id"]: (c["state"], c["caller"], c["counselor"]) for c in calls}
    assert shown == {
        waiting.id: ("waiting", "…0161", None),
        talking.id: ("bridged", "…0162", "alex"),
    }
    dispatches.conversation_over(talking.id, "alex")
    dispatches.finish(waiting.id, "abandoned")
    assert api.get(PREFIX + "/calls", headers=tokens.header("viewer")).get_json() == []


def test_a_half_written_dispatch_is_skipped(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    redis_client.zadd("dispatches:live", {"broken": 1e10})
    redis_client.hset("dispatch:broken", "state", "waiting")
    answer = api.get(PREFIX + "/calls", headers=tokens.header("viewer"))
    assert answer.status_code == 200
    assert answer.get_json() == []


def test_far_off_times_are_refused_not_a_500(api: FlaskClient, tokens: Tokens) -> None:
    viewer = tokens.header("viewer")
    for path, query in (
        ("/oncall", {"at": "9999-12-31T23:59:59+00:00"}),
        ("/oncall", {"at": "0001-01-01T00:00:00Z"}),
        ("/gaps", {"start": "9999-12-20T00:00:00Z", "days": "92"}),
        ("/oncall", {"at": "2026-12-01T23:00:00"}),  # no offset
    ):
        answer = api.get(PREFIX + path, query_string=query, headers=viewer)
        assert answer.status_code == 422, (path, query)
        assert answer.get_json()["error"]["fields"]


def test_a_broken_stored_roster_is_a_503_that_says_why(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    redis_client.hset("helpline:roster", mapping={"version": 99, "document": '{"counselors": 1}'})
    for path in ("/counselors", "/oncall", "/shifts"):
        answer = api.get(PREFIX + path, headers=tokens.header("viewer"))
        assert answer.status_code == 503, path
        assert answer.get_json()["error"]["code"] == "roster_invalid"


def test_answers_are_never_cached(api: FlaskClient, tokens: Tokens) -> None:
    answer = api.get(PREFIX + "/counselors", headers=tokens.header("viewer"))
    assert answer.headers["Cache-Control"] == "no-store"
    refused = api.get(PREFIX + "/counselors")
    assert refused.headers["Cache-Control"] == "no-store"


def test_a_patch_changes_only_what_it_names(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    """Someone else changed alex's languages; a PATCH of the name keeps that."""
    editor = RosterEditor(RosterStore(redis_client), AuditLog(redis_client))
    editor.update_counselor("alex", {"languages": ["en", "fr"]}, "cli:other")
    answer = api.patch(
        PREFIX + "/counselors/alex", json={"name": "Alex K."}, headers=tokens.header("admin")
    )
    assert answer.status_code == 200
    assert answer.get_json()["languages"] == ["en", "fr"]
    assert answer.get_json()["name"] == "Alex K."


def test_a_reopened_callback_is_listed_again_and_not_counted_as_a_try(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, settings: Settings
) -> None:
    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "en", "sms"
    )
    admin = tokens.header("admin")
    url = PREFIX + f"/callbacks/{reference}/status"
    assert api.post(url, json={"status": "done"}, headers=admin).status_code == 200
    done = api.get(PREFIX + "/callbacks", query_string={"include_done": "true"}, headers=admin)
    assert [(c["reference"], c["status"]) for c in done.get_json()] == [(reference, "done")]
    reopened = api.post(url, json={"status": "open"}, headers=admin).get_json()
    assert reopened["status"] == "open"
    assert reopened["attempts"] == 0
    listed = api.get(PREFIX + "/callbacks", headers=admin).get_json()
    assert [c["reference"] for c in listed] == [reference]


def test_a_callback_done_by_phone_shows_as_recently_done(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, settings: Settings
) -> None:
    callbacks = Callbacks(redis_client, settings.secret_key, 3600)
    reference = callbacks.create("+12025550189", "en", "voicemail")
    callbacks.mark(reference, "done", by="counselor call")  # as the phone path does
    listed = api.get(
        PREFIX + "/callbacks", query_string={"include_done": "true"}, headers=tokens.header("admin")
    ).get_json()
    assert [(c["reference"], c["status"]) for c in listed] == [(reference, "done")]


def test_voicemails_are_marked_done_and_only_admins_get_the_recording(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    store_voicemail(
        redis_client, recording_sid="RE" + "1" * 32, recording_url="https://api.example/r1",
        duration_seconds=12, call_sid="CA" + "3" * 32, caller="+12025550190", language="es",
        retention_seconds=3600,
    )  # fmt: skip
    viewer = api.get(PREFIX + "/voicemails", headers=tokens.header("viewer")).get_json()
    assert [(v["caller"], v["recording_url"]) for v in viewer] == [("…0190", None)]
    admin = api.get(PREFIX + "/voicemails", headers=tokens.header("admin")).get_json()
    assert admin[0]["recording_url"] == "https://api.example/r1"
    marked = api.post(
        PREFIX + f"/voicemails/{'RE' + '1' * 32}/status",
        json={"status": "done"}, headers=tokens.header("admin"),
    )  # fmt: skip
    assert marked.get_json()["status"] == "done"
    assert api.get(PREFIX + "/voicemails", headers=tokens.header("admin")).get_json() == []
    missing = api.post(
        PREFIX + "/voicemails/RE404/status", json={"status": "done"}, headers=tokens.header("admin")
    )
    assert missing.status_code == 404
    assert not redis_client.exists("voicemail:RE404")  # no stray record made


def test_urgent_work_is_listed_and_taken_once_through_the_api(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, settings: Settings
) -> None:
    import time

    from ivr.callbacks.urgent import UrgentItems

    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "en", "crisis text", urgent=True
    )
    UrgentItems(redis_client, 3600).open(reference, "crisis", "en", time.time() + 300)
    viewer, admin = tokens.header("viewer"), tokens.header("admin")
    (work,) = api.get(PREFIX + "/urgent", headers=viewer).get_json()
    assert (work["reference"], work["kind"], work["step"]) == (reference, "crisis", "on_call")
    url = PREFIX + f"/urgent/{reference}/claim"
    assert api.post(url, headers=viewer).status_code == 403  # taking work is an admin's act
    taken = api.post(url, headers=admin)
    assert taken.status_code == 200
    assert taken.get_json()["reference"] == reference
    assert api.post(url, headers=admin).status_code == 409  # the first claim stands
    assert api.post(PREFIX + "/urgent/CB-NOSUCH/claim", headers=admin).status_code == 404
    assert api.get(PREFIX + "/urgent", headers=viewer).get_json() == []
    [entry] = AuditLog(redis_client).recent()
    assert (entry.action, entry.target) == ("urgent.claim", reference)


def test_crisis_decisions_are_counted_without_words(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, content: Content
) -> None:
    from ivr.crisis.decisions import Decisions

    decisions = Decisions(redis_client, 3600)
    for text in ("i want to kill myself", "what is klonopin", "quiero matarme"):
        decisions.record(content.crisis.read(text), "sms")
    viewer = tokens.header("viewer")
    rows = api.get(PREFIX + "/crisis/decisions", headers=viewer).get_json()
    assert sum(r["count"] for r in rows) == 3
    assert sum(r["count"] for r in rows if r["outcome"] == "crisis") == 2
    assert "kill" not in json.dumps(rows)
    bad = api.get(PREFIX + "/crisis/decisions", query_string={"hours": "0"}, headers=viewer)
    assert bad.status_code == 422  # the field named, as every bad query is
