"""The counselor's desk (issue 19), through its pages: a texter asks for a
person, a counselor signs in and takes the conversation (a second cannot,
nor read it), they write to each other, a crisis is flagged, and closing it
tells the texter how to come back and leaves a wrap-up due. Hostile words
are shown as words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.contacts.records import Contacts
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from tests.admin.login import PASSWORD, csrf_in, log_in
from tests.live import LiveLine, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from tests.test_sms import texts_of

TEXTER = "+12025550166"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def desk_app(live_line: LiveLine) -> Flask:
    store_always_on_call(live_line.redis)
    accounts = Accounts(live_line.redis)
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    accounts.set_password("blanca.r", PASSWORD, "counselor", counselor="blanca")
    accounts.set_password("sam", PASSWORD, "admin")
    accounts.set_password("val", PASSWORD, "viewer")
    return create_app(live_line.settings, live_line.content)


def signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, name) == 302
    return client


def texter_says(line: LiveLine, body: str) -> None:
    line.network.text_line(TEXTER, body)
    line.run_jobs()


def the_thread(line: LiveLine) -> str:
    found = Line(line.settings, line.content, line.redis).threads.open_thread_of(TEXTER)
    assert found is not None
    return found


def post(client: FlaskClient, path: str, page: str, **form: str) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": csrf_in(page), **form})
    return answer.status_code, answer.get_data(as_text=True)


def test_a_counselor_signs_in_to_the_desk_and_sees_whats_offered_without_words(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    texter_says(live_line, "i can't sleep and i'm scared")
    thread_id = the_thread(live_line)
    client = desk_app.test_client()
    client.get("/admin/login")
    answer = client.post(
        "/admin/login",
        data={
            "name": "alex.r",
            "secret": PASSWORD,
            "csrf_token": csrf_in(client.get("/admin/login").get_data(as_text=True)),
        },
    )
    assert answer.headers["Location"].endswith("/desk/")  # a counselor's login opens the desk
    page = client.get("/desk/").get_data(as_text=True)
    assert thread_id in page
    assert "scared" not in page  # what is offered shows no words...
    assert "0166" not in page  # ...and no number
    assert client.get("/admin/").status_code == 403


def test_the_first_to_take_it_holds_it_and_nobody_else_reads_it(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    texter_says(live_line, HOSTILE)
    thread_id = the_thread(live_line)
    alex, blanca = signed_in(desk_app, "alex.r"), signed_in(desk_app, "blanca.r")
    desk_page = alex.get("/desk/").get_data(as_text=True)
    status, _ = post(alex, f"/desk/threads/{thread_id}/take", desk_page)
    assert status == 302
    status, said = post(
        blanca, f"/desk/threads/{thread_id}/take", blanca.get("/desk/").get_data(as_text=True)
    )
    assert status == 409
    assert "someone else took" in said
    assert blanca.get(f"/desk/threads/{thread_id}").status_code == 403
    assert blanca.get(f"/desk/threads/{thread_id}/updates?after=-1").status_code == 403
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    assert "…0166" in page  # masked, as everywhere
    assert HOSTILE not in page  # shown as words, never as markup
    assert "&lt;script&gt;" in page


def test_messages_both_ways_crisis_flagged_and_closing_leaves_a_wrap_up(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    alex = signed_in(desk_app, "alex.r")
    post(alex, f"/desk/threads/{thread_id}/take", alex.get("/desk/").get_data(as_text=True))
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    status, _ = post(alex, f"/desk/threads/{thread_id}/say", page, body="Hi, I'm Alex. I'm here.")
    assert status == 302
    live_line.run_jobs()
    assert [m.body for m in live_line.network.sent_messages(to=TEXTER)][
        -1
    ] == "Hi, I'm Alex. I'm here."
    texter_says(live_line, "i took all my pills")
    update = alex.get(f"/desk/threads/{thread_id}/updates?after=0").get_json()
    (crisis,) = [m for m in update["messages"] if m["sender"] == "texter"]
    assert (crisis["sender"], crisis["crisis"]) == ("texter", True)
    assert update["crisis"] is True
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    status, said = post(alex, f"/desk/threads/{thread_id}/say", page, body="   ")
    assert status == 422
    assert 'id="body-error"' in said
    status, _ = post(alex, f"/desk/threads/{thread_id}/close", page)
    assert status == 302
    live_line.run_jobs()
    sent = [m.body for m in live_line.network.sent_messages(to=TEXTER)]
    assert sent[-2:] == texts_of(live_line.content, "thread_closed", "en")
    (due,) = Contacts(live_line.redis, 3600).wrapups_due("alex")
    assert (due.channel, due.outcome, due.counselor) == ("text", "conversation", "alex")
    # Closed: still theirs to read for the wrap-up, but nothing more is sent.
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    assert 'action="/desk/threads/' + thread_id + '/say"' not in page
    status, _ = post(alex, f"/desk/threads/{thread_id}/say", page, body="one more thing")
    assert status == 409


def test_a_counselor_hands_it_on_to_someone_on_call(live_line: LiveLine, desk_app: Flask) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    alex, blanca = signed_in(desk_app, "alex.r"), signed_in(desk_app, "blanca.r")
    post(alex, f"/desk/threads/{thread_id}/take", alex.get("/desk/").get_data(as_text=True))
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    status, _said = post(
        alex, f"/desk/threads/{thread_id}/hand", page, to="sol"
    )  # not a counselor on call
    assert status == 422
    status, _ = post(alex, f"/desk/threads/{thread_id}/hand", page, to="blanca")
    assert status == 302
    assert blanca.get(f"/desk/threads/{thread_id}").status_code == 200
    assert alex.get(f"/desk/threads/{thread_id}").status_code == 403
    live_line.run_jobs()
    told = [m.body for m in live_line.network.sent_messages(to=COUNSELOR_B)]
    assert any("handed to you" in body and thread_id in body for body in told)


def test_an_admin_reads_every_conversation_audited_and_a_viewer_is_refused(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    sam = signed_in(desk_app, "sam")
    assert sam.get(f"/desk/threads/{thread_id}").status_code == 200
    entry = AuditLog(live_line.redis).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("web:sam", "conversation.view", thread_id)
    val = signed_in(desk_app, "val")
    assert val.get("/desk/").status_code == 403
    stranger = desk_app.test_client()
    assert stranger.get("/desk/").status_code == 302  # to the login


def test_an_admin_reading_a_whole_thread_by_its_updates_is_audited_once_per_sitting(
    live_line: LiveLine, desk_app: Flask
) -> None:
    """The line's wait texts come first, so "after 0" returns every word the
    texter wrote: a read like that is a view, whatever it asks after."""
    texter_says(live_line, "TALK")
    texter_says(live_line, "i took too many of my pills")
    thread_id = the_thread(live_line)
    sam = signed_in(desk_app, "sam")
    audit = AuditLog(live_line.redis)

    def views() -> int:
        return sum(e.action == "conversation.view" for e in audit.recent(50))

    read = sam.get(f"/desk/threads/{thread_id}/updates?after=0").get_json()
    assert any("pills" in m["body"] for m in read["messages"])
    assert views() == 1
    sam.get(f"/desk/threads/{thread_id}/updates?after=0")  # the page's next poll
    assert views() == 1
    assert sam.get(f"/desk/threads/{thread_id}").status_code == 200  # the page itself
    assert views() == 2


def closed_conversation(line: LiveLine, app: Flask) -> tuple[FlaskClient, str]:
    """Alex took a conversation and closed it: the contact whose wrap-up is due."""
    texter_says(line, "TALK")
    thread_id = the_thread(line)
    alex = signed_in(app, "alex.r")
    post(alex, f"/desk/threads/{thread_id}/take", alex.get("/desk/").get_data(as_text=True))
    post(
        alex,
        f"/desk/threads/{thread_id}/close",
        alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True),
    )
    (due,) = Contacts(line.redis, 3600).wrapups_due("alex")
    return alex, due.id


def test_a_wrap_up_with_lists_from_content_and_a_note_refused_beside_its_field(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex, contact_id = closed_conversation(live_line, desk_app)
    desk = alex.get("/desk/").get_data(as_text=True)
    assert contact_id in desk
    assert 'id="due"' in desk  # the desk nags
    page = alex.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "Support with tapering or stopping" in page  # flows/wrapup.yaml
    status, said = post(alex, f"/desk/contacts/{contact_id}", page, risk="low")
    assert status == 422
    assert 'id="dispositions-error"' in said
    status, said = post(
        alex, f"/desk/contacts/{contact_id}", page,
        dispositions="taper_support", risk="low", referrals="gossip",
    )  # fmt: skip
    assert status == 422
    assert 'id="referrals-error"' in said
    assert "taper_support" in said
    assert 'value="taper_support" checked' in said
    note = "Tapering with her doctor; <b>call Friday</b>"
    status, _ = post(
        alex, f"/desk/contacts/{contact_id}", page,
        dispositions="taper_support", risk="low", referrals="prescriber", note=note,
    )  # fmt: skip
    assert status == 302
    contact = Contacts(live_line.redis, 3600).get(contact_id)
    assert contact is not None
    assert (contact.dispositions, contact.risk, contact.referrals, contact.note) == (
        ("taper_support",), "low", ("prescriber",), note,
    )  # fmt: skip
    assert Contacts(live_line.redis, 3600).wrapups_due("alex") == []
    entry = AuditLog(live_line.redis).recent(1)[0]
    assert (entry.action, entry.target) == ("contact.wrapup", contact_id)
    assert "Friday" not in str(entry.after)  # the note never reaches the audit log
    shown = alex.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    assert "&lt;b&gt;call Friday&lt;/b&gt;" in shown


def test_another_counselor_cannot_read_a_contact(live_line: LiveLine, desk_app: Flask) -> None:
    _, contact_id = closed_conversation(live_line, desk_app)
    blanca = signed_in(desk_app, "blanca.r")
    assert blanca.get(f"/desk/contacts/{contact_id}").status_code == 403


@pytest.mark.line_settings(HELPLINE_WRAPUP_GRACE_SECONDS="0")
def test_an_overdue_wrap_up_holds_new_work_until_it_is_done(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex, contact_id = closed_conversation(live_line, desk_app)
    live_line.network.text_line("+12025550167", "TALK")  # someone else asks for a person
    live_line.run_jobs()
    waiting = Line(live_line.settings, live_line.content, live_line.redis).threads.open_thread_of(
        "+12025550167"
    )
    assert waiting is not None
    desk = alex.get("/desk/").get_data(as_text=True)
    assert 'id="overdue"' in desk
    # Shown who waits, but offered no Take, and told why beside it.
    assert waiting in desk
    assert f"/desk/threads/{waiting}/take" not in desk
    assert "finish your overdue wrap-up to take it" in desk
    status, said = post(alex, f"/desk/threads/{waiting}/take", desk)  # a page from before
    assert status == 409
    assert "wrap-up" in said
    page = alex.get(f"/desk/contacts/{contact_id}").get_data(as_text=True)
    post(alex, f"/desk/contacts/{contact_id}", page, dispositions="emotional_support", risk="none")
    desk = alex.get("/desk/").get_data(as_text=True)
    assert f"/desk/threads/{waiting}/take" in desk
    assert "held-back" not in desk
    status, _ = post(alex, f"/desk/threads/{waiting}/take", desk)
    assert status == 302


def alerted(line: LiveLine, counselor: str, thread_id: str) -> bool:
    return any(thread_id in m.body for m in line.network.sent_messages(to=counselor))


@pytest.mark.line_settings(HELPLINE_WRAPUP_GRACE_SECONDS="0")
def test_a_waiting_texter_is_not_texted_to_a_counselor_whose_wrap_up_is_overdue(
    live_line: LiveLine, desk_app: Flask
) -> None:
    closed_conversation(live_line, desk_app)  # Alex's wrap-up is overdue at once
    live_line.network.text_line("+12025550167", "TALK")
    live_line.run_jobs()
    second = Line(live_line.settings, live_line.content, live_line.redis).threads
    waiting = second.open_thread_of("+12025550167")
    assert waiting is not None
    assert alerted(live_line, COUNSELOR_B, waiting)
    assert not alerted(live_line, COUNSELOR_A, waiting)
    # Nor through the API, while Blanca is free to take it.
    _, token = Accounts(live_line.redis).create_token("alex.r", "counselor", counselor="alex")
    refused = desk_app.test_client().post(
        f"/api/v1/conversations/{waiting}/take", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 409
    assert "wrap-up" in refused.get_data(as_text=True)
    # Urgent work waits for no paperwork: a crisis text still alerts Alex.
    before = len(live_line.network.sent_messages(to=COUNSELOR_A))
    live_line.network.text_line("+12025550169", "i took all my pills and i want to die")
    live_line.run_jobs()
    assert len(live_line.network.sent_messages(to=COUNSELOR_A)) > before
    # Blanca takes it and closes it: now both are overdue. A texter waiting
    # must still reach someone: everyone on call is told.
    blanca = signed_in(desk_app, "blanca.r")
    post(blanca, f"/desk/threads/{waiting}/take", desk_page(blanca))
    post(blanca, f"/desk/threads/{waiting}/close", desk_page(blanca))
    assert Contacts(live_line.redis, 3600).wrapups_due("blanca")
    live_line.network.text_line("+12025550168", "TALK")
    live_line.run_jobs()
    third = second.open_thread_of("+12025550168")
    assert third is not None
    assert alerted(live_line, COUNSELOR_A, third)
    assert alerted(live_line, COUNSELOR_B, third)
    # And the alert is no false promise: with nobody else free, the desk lets
    # them take it, and says why.
    desk = desk_page(blanca)
    assert "Nobody else on call is free" in desk
    assert f"/desk/threads/{third}/take" in desk
    status, _ = post(blanca, f"/desk/threads/{third}/take", desk)
    assert status == 302
    assert second.get(third) is not None
    assert second.get(third).holder == "blanca"  # type: ignore[union-attr]


def test_the_api_wraps_up_with_a_counselors_token_and_lists_contacts_without_notes(
    live_line: LiveLine, desk_app: Flask
) -> None:
    _, contact_id = closed_conversation(live_line, desk_app)
    accounts = Accounts(live_line.redis)
    _, alex = accounts.create_token("alex.r", "counselor", counselor="alex")
    _, blanca = accounts.create_token("blanca.r", "counselor", counselor="blanca")
    _, viewer = accounts.create_token("val", "viewer")
    api = desk_app.test_client()

    def call(method: str, path: str, token: str, **body: object) -> tuple[int, dict[str, object]]:
        answer = api.open(
            "/api/v1" + path, method=method, json=body or None,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        return answer.status_code, answer.get_json()

    status, said = call(
        "POST", f"/contacts/{contact_id}/wrapup", alex, dispositions=["gossip"], risk="low"
    )
    assert status == 422
    assert said["error"]["fields"][0]["field"] == "dispositions"  # type: ignore[index]
    status, _ = call(
        "POST",
        f"/contacts/{contact_id}/wrapup",
        blanca,
        dispositions=["emotional_support"],
        risk="low",
    )
    assert status == 403
    status, _ = call(
        "POST",
        f"/contacts/{contact_id}/wrapup",
        viewer,
        dispositions=["emotional_support"],
        risk="low",
    )
    assert status == 403
    status, done = call(
        "POST", f"/contacts/{contact_id}/wrapup", alex,
        dispositions=["emotional_support"], risk="low", note="Feels heard; will text again.",
    )  # fmt: skip
    assert status == 200
    assert (done["risk"], done["note"], done["wrapup_due"]) == (
        "low",
        "Feels heard; will text again.",
        False,
    )
    listed = api.get("/api/v1/contacts", headers={"Authorization": f"Bearer {viewer}"})
    assert listed.status_code == 200
    (row,) = listed.get_json()
    assert (row["id"], row["note"]) == (contact_id, None)  # lists never carry a note
    status, _ = call("GET", "/conversations", viewer)
    assert status == 200


def test_urgent_work_is_offered_and_call_me_rings_the_counselor_to_take_it(
    live_line: LiveLine, desk_app: Flask
) -> None:
    live_line.network.phone(COUNSELOR_A, answer="no-answer")
    texter_says(live_line, "i took all my pills and i want to die")
    alex = signed_in(desk_app, "alex.r")
    desk = alex.get("/desk/").get_data(as_text=True)
    (reference,) = re.findall(r"/desk/urgent/([A-Z]{2}-[A-Z0-9]{6})/call-me", desk)
    assert "crisis text: call back" in desk
    assert "0166" not in desk
    assert "pills" not in desk
    status, _ = post(alex, f"/desk/urgent/{reference}/call-me", desk)
    assert status == 302
    assert "Press 1 when your phone rings" in alex.get("/desk/").get_data(as_text=True)
    live_line.run_jobs()
    eventually(lambda: [c.to for c in live_line.network.calls.values()] == [COUNSELOR_A])
    viewer_refused = signed_in(desk_app, "sam")  # an admin is no roster counselor
    status, _ = post(viewer_refused, f"/desk/urgent/{reference}/call-me", desk_page(viewer_refused))
    assert status == 403


def desk_page(client: FlaskClient) -> str:
    return client.get("/desk/").get_data(as_text=True)


@pytest.mark.parametrize("after", ["--1", "99999999999999999999", "9" * 5000, "x", ""])
def test_hostile_update_positions_are_answered_not_crashed_on(
    live_line: LiveLine, desk_app: Flask, after: str
) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    alex = signed_in(desk_app, "alex.r")
    post(alex, f"/desk/threads/{thread_id}/take", desk_page(alex))
    answer = alex.get(f"/desk/threads/{thread_id}/updates", query_string={"after": after})
    assert answer.status_code == 200


def test_an_admin_reading_a_whole_thread_through_its_updates_is_audited(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    sam = signed_in(desk_app, "sam")
    assert sam.get(f"/desk/threads/{thread_id}/updates?after=-1").status_code == 200
    entry = AuditLog(live_line.redis).recent(1)[0]
    assert (entry.action, entry.target) == ("conversation.view", thread_id)


def test_a_conversation_through_the_api_with_a_counselors_token(
    live_line: LiveLine, desk_app: Flask
) -> None:
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    accounts = Accounts(live_line.redis)
    _, alex = accounts.create_token("alex.r", "counselor", counselor="alex")
    _, blanca = accounts.create_token("blanca.r", "counselor", counselor="blanca")
    api = desk_app.test_client()

    def call(method: str, path: str, token: str, body: object = None) -> tuple[int, Any]:
        answer = api.open(
            "/api/v1" + path, method=method, json=body,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        return answer.status_code, answer.get_json()

    status, offered = call("GET", "/conversations", alex)
    assert status == 200
    assert [c["id"] for c in offered] == [thread_id]
    assert call("POST", f"/conversations/{thread_id}/take", alex)[0] == 200
    assert call("POST", f"/conversations/{thread_id}/take", blanca)[0] == 409
    assert call("GET", f"/conversations/{thread_id}", blanca)[0] == 403
    status, _ = call(
        "POST", f"/conversations/{thread_id}/messages", alex, {"body": "Hi, Alex here."}
    )
    assert status == 201
    live_line.run_jobs()
    assert [m.body for m in live_line.network.sent_messages(to=TEXTER)][-1] == "Hi, Alex here."
    texter_says(live_line, "thank you")
    status, detail = call("GET", f"/conversations/{thread_id}?after=0", alex)
    assert [m["body"] for m in detail["messages"] if m["sender"] == "texter"] == ["thank you"]
    assert detail["number"] == "…0166"
    status, _said = call("POST", f"/conversations/{thread_id}/hand", alex, {"to": "nobody"})
    assert status == 422
    status, contact = call("POST", f"/conversations/{thread_id}/close", alex)
    assert status == 200
    assert (contact["channel"], contact["wrapup_due"]) == ("text", True)


def taken(line: LiveLine, client: FlaskClient, texter: str = TEXTER) -> str:
    """TEXTER asked for a person and CLIENT's counselor took the conversation."""
    line.network.text_line(texter, "TALK")
    line.run_jobs()
    thread_id = Line(line.settings, line.content, line.redis).threads.open_thread_of(texter)
    assert thread_id is not None
    status, _ = post(client, f"/desk/threads/{thread_id}/take", desk_page(client))
    assert status == 302
    return thread_id


def sent_to_texter(line: LiveLine) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=TEXTER)]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("x" * 1601, "a message is at most 1600 characters (this one is 1601)"),
        ("y" * 20_000, "a message is at most 1600 characters (this one is 20000)"),
        ("are you safe?\x00<script>alert(1)</script>", "a control character (U+0000)"),
        ("\x1b[2J\x1b[31myou are hacked", "a control character (U+001B)"),
    ],
)
def test_a_hostile_or_over_long_counselor_message_is_refused_beside_its_field_and_not_sent(
    live_line: LiveLine, desk_app: Flask, body: str, why: str
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)
    before = sent_to_texter(live_line)
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    status, said = post(alex, f"/desk/threads/{thread_id}/say", page, body=body)
    assert status == 422
    error = re.search(r'<p id="body-error" class="error" role="alert">([^<]*)</p>', said)
    assert error is not None
    assert why in error.group(1)
    assert 'aria-describedby="body-error"' in said  # beside the field, tied to it
    assert "<script>alert" not in said  # never markup
    if "<script>" in body:
        assert "&lt;script&gt;alert(1)" in said  # the draft kept, as words
    live_line.run_jobs()
    assert sent_to_texter(live_line) == before
    messages = alex.get(f"/desk/threads/{thread_id}/updates?after=-1").get_json()["messages"]
    assert [m for m in messages if m["sender"] == "alex"] == []


def test_a_message_past_what_any_request_may_carry_is_refused_before_the_desk_reads_it(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)
    before = sent_to_texter(live_line)
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    status, _ = post(alex, f"/desk/threads/{thread_id}/say", page, body="z" * 100_000)
    assert status == 413  # the app's door (MAX_REQUEST_BYTES): no form is read
    live_line.run_jobs()
    assert sent_to_texter(live_line) == before


def test_a_counselors_markup_goes_to_the_texter_as_words_and_shows_as_words(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    words = 'I <3 that you wrote. <img src=x onerror=alert(1)> "; DROP TABLE threads; --'
    status, _ = post(alex, f"/desk/threads/{thread_id}/say", page, body=words)
    assert status == 302
    live_line.run_jobs()
    assert sent_to_texter(live_line)[-1] == words
    shown = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    assert "<img src=x" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;; DROP TABLE threads; --" in shown


def test_a_counselors_message_shows_whether_it_was_delivered(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)

    def delivery(seq: int) -> str:
        answer = alex.get(f"/desk/threads/{thread_id}/updates?after={seq}&pending={seq}")
        (found,) = answer.get_json()["delivery"]
        assert found["seq"] == seq
        return str(found["status_text"])

    def say(body: str) -> int:
        page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
        assert post(alex, f"/desk/threads/{thread_id}/say", page, body=body)[0] == 302
        messages = alex.get(f"/desk/threads/{thread_id}/updates?after=-1").get_json()["messages"]
        return int(messages[-1]["seq"])

    first = say("Are you somewhere safe right now?")
    assert delivery(first) == "queued"  # the outbox has it; the carrier not yet
    live_line.run_jobs()
    eventually(lambda: delivery(first) == "delivered")
    live_line.network.fail_next("messages", count=1, delivery=30003)  # the handset is off
    second = say("Did this one reach you?")
    live_line.run_jobs()
    eventually(lambda: delivery(second) == "not delivered")
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    assert '<span class="status">delivered</span>' in page
    assert '<span class="status trouble">not delivered</span>' in page
    assert f'data-seq="{first}">' in page  # settled: the page asks about it no more
    assert f'data-seq="{second}">' in page
    # The API carries the same status.
    _, token = Accounts(live_line.redis).create_token("alex.r", "counselor", counselor="alex")
    detail = desk_app.test_client().get(
        f"/api/v1/conversations/{thread_id}", headers={"Authorization": f"Bearer {token}"}
    )
    statuses = {m["seq"]: m["status"] for m in detail.get_json()["messages"]}
    assert (statuses[first], statuses[second]) == ("delivered", "undelivered")


@pytest.mark.parametrize("pending", ["1,x", "-1", ",".join(["1"] * 101), "9" * 12, "1;2"])
def test_hostile_pending_lists_are_ignored_not_crashed_on(
    live_line: LiveLine, desk_app: Flask, pending: str
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)
    answer = alex.get(
        f"/desk/threads/{thread_id}/updates", query_string={"after": "5", "pending": pending}
    )
    assert answer.status_code == 200
    assert answer.get_json()["delivery"] == []


def unread_in(page: str, thread_id: str) -> str:
    """The 'n new' beside THREAD_ID in the desk's list of my conversations."""
    item = re.search(rf'<li[^>]*data-thread="{thread_id}".*?</li>', page, re.S)
    assert item is not None, page
    count = re.search(r'<span class="unread">(\d+) new</span>', item.group())
    return count.group(1) if count else ""


def test_the_desk_counts_the_texters_new_words_in_each_of_my_conversations(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    first = taken(live_line, alex)
    second = taken(live_line, alex, "+12025550167")
    assert (unread_in(desk_page(alex), first), unread_in(desk_page(alex), second)) == ("", "")
    live_line.network.text_line("+12025550167", "are you there?")
    live_line.network.text_line("+12025550167", "hello??")
    texter_says(live_line, "ok")
    desk = desk_page(alex)
    assert (unread_in(desk, first), unread_in(desk, second)) == ("1", "2")
    alex.get(f"/desk/threads/{second}")  # read: no longer new
    desk = desk_page(alex)
    assert (unread_in(desk, first), unread_in(desk, second)) == ("1", "")
    # The page's polling reads them too.
    alex.get(f"/desk/threads/{first}/updates?after=-1")
    assert unread_in(desk_page(alex), first) == ""
    # Her own reply is not new to her; the texter's answer is.
    page = alex.get(f"/desk/threads/{first}").get_data(as_text=True)
    post(alex, f"/desk/threads/{first}/say", page, body="I'm here.")
    assert unread_in(desk_page(alex), first) == ""
    texter_says(live_line, "thank you")
    assert unread_in(desk_page(alex), first) == "1"
    # An admin's list is everyone's: no counts of its own, and reading marks nothing.
    sam = signed_in(desk_app, "sam")
    assert 'class="unread"' not in desk_page(sam)
    sam.get(f"/desk/threads/{first}")
    assert unread_in(desk_page(alex), first) == "1"


def test_the_lists_are_drawn_again_only_when_they_change(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    found = re.search(r'data-version="([0-9a-f]{16})"', desk_page(alex))
    assert found is not None
    version = found.group(1)
    assert alex.get("/desk/lists", query_string={"since": version}).status_code == 204
    texter_says(live_line, "TALK")
    thread_id = the_thread(live_line)
    fresh = alex.get("/desk/lists", query_string={"since": version})
    assert fresh.status_code == 200
    drawn = fresh.get_data(as_text=True)
    assert drawn.lstrip().startswith('<div class="desk-lists"')  # a fragment, not a page
    assert thread_id in drawn
    assert f"/desk/threads/{thread_id}/take" in drawn
    assert f'data-version="{version}"' not in drawn
    assert fresh.headers["Cache-Control"] == "no-store"


def updates_of(client: FlaskClient, thread_id: str, **query: str) -> Any:
    answer = client.get(f"/desk/threads/{thread_id}/updates", query_string=query)
    assert answer.status_code == 200
    return answer.get_json()


def test_a_conversations_page_shows_the_new_words_in_my_others(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    first = taken(live_line, alex)
    second = taken(live_line, alex, "+12025550167")
    third = taken(live_line, alex, "+12025550168")
    live_line.network.text_line("+12025550167", "are you there?")
    live_line.network.text_line("+12025550167", "hello??")
    live_line.network.text_line("+12025550168", "i took the whole bottle")
    live_line.run_jobs()
    elsewhere = updates_of(alex, first, after="-1")["elsewhere"]
    assert elsewhere == [
        {"id": second, "unread": 2, "crisis": False, "url": f"/desk/threads/{second}"},
        {"id": third, "unread": 1, "crisis": True, "url": f"/desk/threads/{third}"},
    ]  # the desk's own counts, and never the conversation open here
    assert (unread_in(desk_page(alex), second), unread_in(desk_page(alex), third)) == ("2", "1")
    # The page draws them too, from the start.
    page = alex.get(f"/desk/threads/{first}").get_data(as_text=True)
    line = re.search(r'<p id="elsewhere".*?</p>', page, re.S)
    assert line is not None
    assert f'<a href="/desk/threads/{second}">{second}</a> · <span class="unread">2 new</span>' in (
        line.group()
    )
    assert "hidden" not in line.group().split(">")[0]
    # Reading one there: it is new no more, here either.
    alex.get(f"/desk/threads/{second}")
    unread = {o["id"]: o["unread"] for o in updates_of(alex, first, after="-1")["elsewhere"]}
    assert unread == {second: 0, third: 1}
    # An admin's page of a conversation lists no one's others.
    sam = signed_in(desk_app, "sam")
    assert updates_of(sam, first, after="-1")["elsewhere"] == []
    page = sam.get(f"/desk/threads/{first}").get_data(as_text=True)
    assert '<p id="elsewhere" class="elsewhere" aria-live="polite" hidden>' in page


def test_a_hidden_page_fetches_the_texters_words_but_leaves_them_new(
    live_line: LiveLine, desk_app: Flask
) -> None:
    alex = signed_in(desk_app, "alex.r")
    first = taken(live_line, alex)
    second = taken(live_line, alex, "+12025550167")
    page = alex.get(f"/desk/threads/{first}").get_data(as_text=True)
    last = max(int(seq) for seq in re.findall(r'data-seq="(\d+)"', page))
    texter_says(live_line, "are you still there?")
    fetched = updates_of(alex, first, after=str(last), seen="0")["messages"]
    assert [m["body"] for m in fetched] == ["are you still there?"]
    assert unread_in(desk_page(alex), first) == "1"  # not seen: the page is hidden
    assert updates_of(alex, first, after=str(last + 1), seen="0")["messages"] == []
    assert updates_of(alex, second, after="-1")["elsewhere"][0]["unread"] == 1
    # In front again, the page asks for them again: now seen.
    assert len(updates_of(alex, first, after=str(last), seen="1")["messages"]) == 1
    assert unread_in(desk_page(alex), first) == ""


@pytest.mark.parametrize("seen", ["", "false", "no", "00", "-0", "0 ", "1", "0" * 5000, "\x00"])
def test_anything_but_seen_0_is_a_page_in_front_of_its_holder(
    live_line: LiveLine, desk_app: Flask, seen: str
) -> None:
    alex = signed_in(desk_app, "alex.r")
    thread_id = taken(live_line, alex)
    texter_says(live_line, "hello?")
    assert unread_in(desk_page(alex), thread_id) == "1"
    assert updates_of(alex, thread_id, after="-1", seen=seen)["messages"]
    assert unread_in(desk_page(alex), thread_id) == ""
