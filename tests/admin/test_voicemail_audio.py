"""Playing a voicemail from the Voicemail page: the line fetches the recording
from Twilio (here the emulator, as in development) with its own credentials
and passes the audio on; only admins get it, each listen is audited as a
reveal, and the caller's number is never written to a log."""

from __future__ import annotations

import logging
from typing import cast

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.callbacks.voicemail import store_voicemail
from ivr.content.model import Content
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.roster.store import ROSTER_KEY
from tests.admin.login import csrf, log_in
from tests.conftest import ACCOUNT_SID
from tests.live import MESSAGE_TO_CALL_BACK, LiveLine, eventually
from tests.raw_replies import RawList
from twilio_emulator import hangup, say
from twilio_emulator.recordings import RecordingRecord

CALLER = "+12025550123"
SID = "RE" + "a" * 32


@pytest.fixture
def line_app(live_line: LiveLine, content: Content, people: Accounts) -> Flask:
    """The admin pages of the live line: its settings point at the emulator."""
    return create_app(live_line.settings, content)


def _voicemail(client: redis.Redis, sid: str = SID, seconds: int = 3) -> None:
    store_voicemail(
        client, recording_sid=sid, duration_seconds=seconds, call_sid="CA" + "b" * 32,
        recording_url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}",
        caller=CALLER, language="en", retention_seconds=3600,
    )  # fmt: skip


def test_a_voicemail_a_caller_left_plays_for_an_admin(
    live_line: LiveLine,
    line_app: Flask,
    redis_client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """End to end: a call leaves a message through the emulator's <Record>, and
    the Voicemail page's player gets its audio through the line."""
    caplog.set_level(logging.DEBUG)
    network = live_line.network
    redis_client.delete(ROSTER_KEY)  # nobody on call: 1 for a person, then 1 for a message
    call = network.call_line(CALLER, *MESSAGE_TO_CALL_BACK, say("this is Ana, call me"), hangup())
    network.wait_for_call(call.sid, timeout=30)
    sid = eventually(
        lambda: [s.decode() for s in cast(RawList, redis_client.zrange("voicemails", 0, -1))]
    )[0]
    client = line_app.test_client()
    assert log_in(client, "sam") == 302
    page = client.get("/admin/callbacks").get_data(as_text=True)
    player = f'src="/admin/voicemails/{sid}/recording"'
    assert player in page
    assert "api.twilio.com" not in page  # the browser never goes to Twilio itself

    audio = client.get(f"/admin/voicemails/{sid}/recording")
    assert audio.status_code == 200
    assert audio.mimetype == "audio/x-wav"
    body = audio.get_data()
    assert body[:4] == b"RIFF"
    assert body[8:12] == b"WAVE"
    assert int(audio.headers["Content-Length"]) == len(body)
    assert audio.headers["Cache-Control"] == "no-store"
    # Fetched from the emulator, with the line's credentials, by the SID.
    fetched = [r for r in network.requests if "/Recordings/" in r["path"]]
    assert [(r["method"], r["path"], r["status"]) for r in fetched] == [
        ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.wav", 200)
    ]
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("web:sam", "voicemail.reveal", sid)
    assert f"/admin/voicemails/{sid}/recording" in caplog.text  # the line's logs are read
    assert f"voicemail {sid} saved" in caplog.text
    assert CALLER[2:] not in caplog.text  # and no caller's number is in them


def test_viewers_get_neither_the_player_nor_the_audio(
    live_line: LiveLine, line_app: Flask, redis_client: redis.Redis
) -> None:
    live_line.network.add_recording(RecordingRecord(ACCOUNT_SID, "CA" + "b" * 32, SID, 3))
    _voicemail(redis_client)
    client = line_app.test_client()
    assert log_in(client, "val") == 302
    page = client.get("/admin/callbacks").get_data(as_text=True)
    assert "…0123" in page  # the voicemail is listed
    assert "/recording" not in page
    assert client.get(f"/admin/voicemails/{SID}/recording").status_code == 403
    assert not [r for r in live_line.network.requests if "/Recordings/" in r["path"]]
    assert AuditLog(redis_client).recent(1)[0].action == "login"  # no reveal


@pytest.mark.parametrize(
    "sid",
    [
        "RE" + "c" * 32,  # no such voicemail
        "not-a-recording",  # not even a recording's SID
    ],
)
def test_an_unknown_voicemail_is_404_and_twilio_is_not_asked(
    live_line: LiveLine, line_app: Flask, sid: str
) -> None:
    client = line_app.test_client()
    assert log_in(client, "sam") == 302
    assert client.get(f"/admin/voicemails/{sid}/recording").status_code == 404
    assert not [r for r in live_line.network.requests if "/Recordings/" in r["path"]]


def test_a_recording_twilio_no_longer_has_is_a_clear_502(
    live_line: LiveLine, line_app: Flask, redis_client: redis.Redis
) -> None:
    _voicemail(redis_client)  # kept by the line; deleted at Twilio
    client = line_app.test_client()
    assert log_in(client, "sam") == 302
    answer = client.get(f"/admin/voicemails/{SID}/recording")
    assert answer.status_code == 502
    assert "could not be fetched" in answer.get_data(as_text=True)
    assert AuditLog(redis_client).recent(1)[0].action != "voicemail.reveal"


def test_the_route_exists_for_admins_only(client: FlaskClient, people: Accounts) -> None:
    """Without a login the door sends a stranger to it, as for every page."""
    answer = client.get(f"/admin/voicemails/{SID}/recording")
    assert answer.status_code == 302
    assert "/admin/login" in answer.headers["Location"]
    assert log_in(client, "val") == 302
    assert client.get(f"/admin/voicemails/{SID}/recording").status_code == 403
    assert csrf(client, "/admin/")  # still logged in, nothing broke
