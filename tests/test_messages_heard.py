"""A message nobody may call back is still heard (issue 18, item 10's
regression): the caller asked not to be called, could not say where, left it
on the fallback path, or calls from a withheld number. The message may say
"I took all my pills", so it is urgent work of its own (`VM-…`): the
counselors on call are alerted, the ladder climbs with texts (there is no
person to connect, and the backup line cannot hear it), and listening to it,
marking it done or replying to the alert with its reference takes it."""

from __future__ import annotations

import time
from typing import cast

import pytest
import redis
from flask import Flask

from ivr.app import create_app
from ivr.callbacks.urgent import UrgentItems
from ivr.callbacks.voicemail import NOT_ASKED, follow_up_message, store_voicemail
from ivr.content.model import Content
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.platform.redis_store import decoded
from ivr.roster.store import ROSTER_KEY
from tests.admin.login import csrf, log_in
from tests.conftest import ACCOUNT_SID
from tests.live import LiveLine, eventually
from tests.raw_replies import RawList
from tests.rosters import COUNSELOR_A, COUNSELOR_B, SUPERVISOR, store_always_on_call
from twilio_emulator import hangup, press, say
from twilio_emulator.recordings import RecordingRecord
from workers.context import install
from workers.escalate import escalate
from workers.messages import call_to_hear

CALLER = "+12025550123"
SID = "RE" + "d" * 32
# Nobody on call: 1 for a person, 1 for a message, 3 for no call back.
MESSAGE_WITH_NO_CALL_BACK = (press("1"), press("1"), press("3"))


def left_message(line: LiveLine, consent: str = "none") -> str:
    """A message stored as the Record webhook stores it (its audio kept by the
    emulator, as Twilio keeps it); its urgent reference."""
    line.network.add_recording(RecordingRecord(ACCOUNT_SID, "CA" + "e" * 32, SID, 4))
    store_voicemail(
        line.redis, recording_sid=SID, recording_url="https://api.twilio.com/x", duration_seconds=4,
        call_sid="CA" + "e" * 32, caller=CALLER, language="en", retention_seconds=3600,
        consent=consent,
    )  # fmt: skip
    app_line = Line(line.settings, line.content, line.redis)
    return follow_up_message(
        line.redis, line.settings, app_line.jobs, recording_sid=SID, number="", consent=consent,
        language="en",
    )  # fmt: skip


def climb(line: LiveLine, reference: str) -> str:
    UrgentItems(line.redis, 3600).hurry(reference)
    install(Line(line.settings, line.content, line.redis))
    try:
        done = escalate(reference)
    finally:
        install(None)
    line.run_jobs()
    return done


def texts_to(line: LiveLine, number: str) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=number)]


def claimed_by(line: LiveLine, reference: str) -> str:
    item = UrgentItems(line.redis, 3600).get(reference)
    assert item is not None
    return item.claimed_by


@pytest.mark.parametrize("consent", ["none", NOT_ASKED])
def test_the_counselors_on_call_are_told_to_hear_it(live_line: LiveLine, consent: str) -> None:
    store_always_on_call(live_line.redis)
    reference = left_message(live_line, consent)
    live_line.run_jobs()
    assert reference.startswith("VM-")
    for counselor in (COUNSELOR_A, COUNSELOR_B):
        (alert,) = texts_to(live_line, counselor)
        assert reference in alert
        assert "cannot be called back" in alert
        assert "0123" not in alert  # a reference, never the number
    assert texts_to(live_line, CALLER) == []
    assert not live_line.network.calls


def test_nobody_hearing_it_climbs_by_texts_and_a_call_that_plays_it(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    for person in (COUNSELOR_A, COUNSELOR_B, SUPERVISOR):
        live_line.network.phone(person, answer="no-answer")
    reference = left_message(live_line)
    live_line.run_jobs()
    assert climb(live_line, reference) == "on_call_again: 2 counselors"
    assert any("nobody has heard" in body for body in texts_to(live_line, COUNSELOR_A))
    assert climb(live_line, reference) == "supervisors: 1 supervisor"
    assert any(reference in body for body in texts_to(live_line, SUPERVISOR))
    # The supervisor is called to hear it; nobody is ever dialed back.
    eventually(lambda: [c.to for c in live_line.network.calls.values()] == [SUPERVISOR])
    # The backup line cannot hear a message: everyone on call is texted again,
    # at each of its tries.
    assert climb(live_line, reference) == "backup: 3 persons"
    assert climb(live_line, reference) == "backup: 3 persons"
    assert len([b for b in texts_to(live_line, SUPERVISOR) if "nobody has heard" in b]) == 3
    assert CALLER not in [c.to for c in live_line.network.calls.values()]
    assert live_line.settings.backup_number not in [c.to for c in live_line.network.calls.values()]
    assert claimed_by(live_line, reference) == ""


def test_a_counselor_who_replies_is_called_and_hearing_it_takes_it(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.phone(COUNSELOR_B, press("1"))
    reference = left_message(live_line)
    live_line.run_jobs()
    live_line.network.text_line(COUNSELOR_B, reference)
    assert claimed_by(live_line, reference) == ""  # a reply alone is not hearing it
    live_line.run_jobs()
    assert any("press 1 to hear" in body for body in texts_to(live_line, COUNSELOR_B))
    (call,) = [c for c in live_line.network.calls.values() if c.to == COUNSELOR_B]
    live_line.network.wait_for_call(call.sid, timeout=15)
    assert claimed_by(live_line, reference) == "blanca"
    (played, *_) = [h["text"] for h in call.heard if h["kind"] == "play"]
    # Through the line, which fetches it with its own credentials (Twilio's
    # media URL asks for them): the signed link plays for blanca only.
    path = played.removeprefix(live_line.settings.public_url)
    assert path.startswith("/media/messages/")
    client = create_app(live_line.settings, live_line.content).test_client()
    audio = client.get(path)
    assert audio.status_code == 200
    assert audio.get_data()[:4] == b"RIFF"
    assert client.get(path[:-3] + "xyz").status_code == 404  # tampered
    assert climb(live_line, reference) == "nothing to do"
    entry = AuditLog(live_line.redis).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("phone:blanca", "voicemail.reveal", SID)


def test_someone_else_hearing_it_first_is_told_so(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.phone(COUNSELOR_A, press("1"))
    reference = left_message(live_line)
    UrgentItems(live_line.redis, 3600).claim(reference, "blanca")
    install(Line(live_line.settings, live_line.content, live_line.redis))
    try:
        assert call_to_hear(reference, "alex") == "heard already"
    finally:
        install(None)
    assert not live_line.network.calls


def test_marking_it_done_takes_it_and_stops_the_ladder(
    live_line: LiveLine, content: Content, people: Accounts
) -> None:
    store_always_on_call(live_line.redis)
    reference = left_message(live_line)
    client = create_app(live_line.settings, content).test_client()
    assert log_in(client, "sam") == 302
    page = client.get("/admin/callbacks").get_data(as_text=True)
    assert reference in page
    token = csrf(client, "/admin/callbacks")
    client.post(f"/admin/voicemails/{SID}/done", data={"csrf_token": token})
    assert claimed_by(live_line, reference) == "web:sam"


def test_a_message_marked_done_some_other_way_stops_the_ladder(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    reference = left_message(live_line)
    live_line.redis.hset(f"voicemail:{SID}", "status", "done")  # e.g. the CLI, a restore
    assert climb(live_line, reference) == "already done"


def test_a_caller_who_wants_no_call_back_is_heard_by_whoever_listens(
    live_line: LiveLine, redis_client: redis.Redis, people: Accounts
) -> None:
    """End to end: the call through the emulator, the message, the admin's
    player; listening takes the work."""
    network = live_line.network
    redis_client.delete(ROSTER_KEY)  # nobody on call: the menu offers a message
    call = network.call_line(CALLER, *MESSAGE_WITH_NO_CALL_BACK, say("it's me"), hangup())
    network.wait_for_call(call.sid, timeout=30)
    sid = eventually(
        lambda: [s.decode() for s in cast(RawList, redis_client.zrange("voicemails", 0, -1))]
    )[0]
    record = decoded(redis_client.hgetall(f"voicemail:{sid}"))
    assert record["consent"] == "none"
    assert "callback" not in record
    reference = record["urgent"]
    app: Flask = create_app(live_line.settings, live_line.content)
    client = app.test_client()
    assert log_in(client, "sam") == 302
    assert client.get(f"/admin/voicemails/{sid}/recording").status_code == 200
    assert claimed_by(live_line, reference) == "web:sam"


def test_with_nobody_on_call_it_waits_for_whoever_comes_on_and_tells_them(
    live_line: LiveLine,
) -> None:
    """Nobody on call is when the line offers a message: its ladder must not
    spend itself on nobody and fall silent, but tell whoever comes on."""
    live_line.redis.delete(ROSTER_KEY)
    reference = left_message(live_line)
    live_line.run_jobs()
    assert climb(live_line, reference) == "on_call_again: nobody"
    assert climb(live_line, reference) == "supervisors: nobody"
    for _ in range(5):  # more than the backup line's 3 tries: still waiting for someone
        assert climb(live_line, reference) == "backup: nobody"
        due = live_line.redis.zscore("urgent:deadlines", reference)
        assert due is not None
        assert due > time.time() + 600  # the next deadline, not at once
    item = UrgentItems(live_line.redis, 3600).get(reference)
    assert item is not None
    assert not item.reached_backup  # no backup line was called for it
    store_always_on_call(live_line.redis)  # a shift begins
    assert climb(live_line, reference) == "backup: 3 persons"
    assert any(reference in body for body in texts_to(live_line, COUNSELOR_A))
    assert claimed_by(live_line, reference) == ""


def test_what_a_counselor_called_to_hear_it_hears_is_in_range(live_line: LiveLine) -> None:
    """The offer and the playing, as the emulator judges TwiML (the menu
    crawl asks these routes only with a message nobody left)."""
    store_always_on_call(live_line.redis)
    live_line.network.phone(COUNSELOR_A, press("1"), press("1"), press("9"))
    reference = left_message(live_line)
    install(Line(live_line.settings, live_line.content, live_line.redis))
    try:
        assert call_to_hear(reference, "alex") == "calling"
        assert call_to_hear(reference, "alex") == "already calling them"  # no second ring
    finally:
        install(None)
    (call,) = live_line.network.calls.values()
    live_line.network.wait_for_call(call.sid, timeout=15)
    assert call.warnings == []
    assert call.errors == []
    assert len([h for h in call.heard if h["kind"] == "play"]) == 2  # 1, then 1 again
    assert claimed_by(live_line, reference) == "alex"


@pytest.mark.parametrize("withheld", ["+266696687", "+17378742833"])
def test_a_withheld_caller_through_the_emulator_is_heard_and_never_called_back(
    live_line: LiveLine, redis_client: redis.Redis, withheld: str
) -> None:
    """Twilio's placeholder for a withheld caller ID ("ANONYMOUS" on the
    keypad, and a form of "RESTRICTED" that looks like a real number) asks to
    be called back "at this number": the line asks for a number instead, and
    with none given the message is urgent work to hear, never a callback to
    whoever owns that number (issue 18, item 9)."""
    network = live_line.network
    redis_client.delete(ROSTER_KEY)  # nobody on call: the menu offers a message
    tries = live_line.content.navigation.tries
    unusable = [press("12#")] * tries  # asked for a number: one the line cannot call
    call = network.call_line(
        withheld, press("1"), press("1"), press("1"), *unusable, say("it's me"), hangup()
    )
    network.wait_for_call(call.sid, timeout=30)
    sid = eventually(
        lambda: [s.decode() for s in cast(RawList, redis_client.zrange("voicemails", 0, -1))]
    )[0]
    record = decoded(redis_client.hgetall(f"voicemail:{sid}"))
    assert "callback" not in record
    assert record["urgent"].startswith("VM-")
    live_line.run_jobs()
    assert [c for c in network.calls.values() if c.to == withheld] == []
    assert network.sent_messages(to=withheld) == []
