"""Where the emulator once differed from Twilio (issue 18, items 1 and 7): a
TwiML answer is read by its Content-Type (12300 for one Twilio does not take,
then the fallback URL); a caller hanging up mid-<Record> still has the action
requested, with Digits=hangup; and the fields Twilio adds to its requests
(DialBridged, FinishedOnKey, CallToken) are there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, Response, request

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.conftest import serve
from twilio_emulator import EmulatorServer, Network, create_emulator, hangup, press, say

LINE_NUMBER = "+18885550100"
CALLER = "+12025550123"
COUNSELOR = "+12025550111"
XML = "text/xml; charset=utf-8"
SAY_HELLO = "<Response><Say>hello from the line</Say></Response>"
SAY_FALLBACK = "<Response><Say>the fallback speaks</Say></Response>"


@dataclass
class TypedLine:
    """A line whose answers carry a chosen Content-Type (None: no header at
    all), by path; every request it gets is kept."""

    answers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    got: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("typed_line")

        @app.route("/<path:name>", methods=["GET", "POST"])
        def answer(name: str) -> Response:
            with self.lock:
                self.got.append(("/" + name, request.values.to_dict()))
            body, content_type = self.answers.get("/" + name, ("", XML))
            response = Response(body, status=200)
            if content_type is None:
                del response.headers["Content-Type"]
            else:
                response.headers["Content-Type"] = content_type
            return response

        return app

    def requests_to(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [form for got, form in self.got if got == path]


@pytest.fixture
def typed_line() -> Iterator[tuple[TypedLine, str]]:
    line = TypedLine()
    server, thread = serve(line.app())
    yield line, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def typed_network(typed_line: tuple[TypedLine, str]) -> Iterator[Network]:
    app = create_emulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        typed_line[1],
        LINE_NUMBER,
        voice_fallback_path="/fallback",
        voice_status_path=None,
        webhook_timeout=5.0,
    )
    with EmulatorServer(app) as server:
        yield server.network


def _spoken(network: Network, sid: str) -> list[str]:
    call = network.wait_for_call(sid, timeout=15)
    return [h["text"] for h in call.heard if h["kind"] == "say"]


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "application/json", "text/html", None]
)
def test_twiml_with_a_content_type_twilio_refuses_is_12300_then_the_fallback(
    typed_line: tuple[TypedLine, str], typed_network: Network, content_type: str | None
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = (SAY_HELLO, content_type)
    line.answers["/fallback"] = (SAY_FALLBACK, XML)
    call = typed_network.call_line(CALLER)
    assert _spoken(typed_network, call.sid) == ["the fallback speaks"]
    assert [e["code"] for e in typed_network.calls[call.sid].errors] == [12300]
    (fallback,) = line.requests_to("/fallback")
    assert fallback["ErrorCode"] == "12300"
    assert fallback["ErrorUrl"].endswith("/voice/incoming")


def test_a_fallback_document_with_a_refused_content_type_is_not_played(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    """The static fallback uploaded as application/octet-stream: Twilio plays
    the caller its "application error", not the crisis numbers in the file."""
    line, _ = typed_line
    line.answers["/voice/incoming"] = ("no such page", "text/html")  # or a dead service
    line.answers["/fallback"] = (SAY_FALLBACK, "application/octet-stream")
    call = typed_network.call_line(CALLER)
    assert _spoken(typed_network, call.sid) == []
    heard = [h["kind"] for h in typed_network.calls[call.sid].heard]
    assert "application-error" in heard
    assert [e["code"] for e in typed_network.calls[call.sid].errors] == [12300, 12300]


@pytest.mark.parametrize("content_type", ["text/xml", "application/xml; charset=UTF-8"])
def test_xml_content_types_are_twiml(
    typed_line: tuple[TypedLine, str], typed_network: Network, content_type: str
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = (SAY_HELLO, content_type)
    call = typed_network.call_line(CALLER)
    assert _spoken(typed_network, call.sid) == ["hello from the line"]
    assert typed_network.calls[call.sid].errors == []


def test_plain_text_is_read_out_and_audio_played_then_the_call_hangs_up(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    """As Twilio's "Twilio Understands MIME Types" table says."""
    line, url = typed_line
    line.answers["/voice/incoming"] = ("please call back later", "text/plain")
    call = typed_network.call_line(CALLER)
    assert _spoken(typed_network, call.sid) == ["please call back later"]
    line.answers["/voice/incoming"] = ("ID3...", "audio/mpeg")
    call = typed_network.call_line(CALLER)
    record = typed_network.wait_for_call(call.sid, timeout=15)
    assert [h["text"] for h in record.heard if h["kind"] == "play"] == [url + "/voice/incoming"]
    assert record.errors == []


def test_an_action_answer_with_a_refused_content_type_is_12300(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = (
        '<Response><Gather action="/menu" numDigits="1"/></Response>',
        XML,
    )
    line.answers["/menu"] = (SAY_HELLO, "application/json")
    line.answers["/fallback"] = (SAY_FALLBACK, XML)
    call = typed_network.call_line(CALLER, press("1"))
    assert _spoken(typed_network, call.sid) == ["the fallback speaks"]
    (fallback,) = line.requests_to("/fallback")
    assert (fallback["ErrorCode"], fallback["ErrorUrl"].split("/")[-1]) == ("12300", "menu")


def test_a_reply_to_a_text_that_is_not_xml_sends_nothing_and_goes_to_the_fallback(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, url = typed_line
    line.answers["/sms/incoming"] = ("<Response><Message>hi</Message></Response>", "text/html")
    line.answers["/sms-fallback"] = (
        "<Response><Message>from the fallback</Message></Response>",
        XML,
    )
    assert typed_network.text_line(CALLER, "hello").replies == []
    number = typed_network.number(LINE_NUMBER)
    with typed_network.numbers.lock:
        number.sms_fallback_url = url + "/sms-fallback"
    inbound = typed_network.text_line(CALLER, "hello again")
    assert [reply.body for reply in inbound.replies] == ["from the fallback"]
    (fallback,) = line.requests_to("/sms-fallback")
    assert fallback["ErrorCode"] == "12300"
    # An empty answer is no reply, not an error: no fallback for it.
    line.answers["/sms/incoming"] = ("", None)
    assert typed_network.text_line(CALLER, "third").replies == []
    assert len(line.requests_to("/sms-fallback")) == 1


RECORD = '<Response><Record action="/recorded" maxLength="60"/><Say>after</Say></Response>'


def test_hanging_up_mid_message_requests_the_action_with_digits_hangup(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    """Twilio's <Record>: Digits is "the key (if any) pressed to end the
    recording or 'hangup' if the caller hung up"; the call is over, so the
    action's answer is not played."""
    line, _ = typed_line
    line.answers["/voice/incoming"] = (RECORD, XML)
    line.answers["/recorded"] = (SAY_HELLO, XML)
    call = typed_network.call_line(CALLER, say("it is me, please call"), hangup())
    record = typed_network.wait_for_call(call.sid, timeout=15)
    (action,) = line.requests_to("/recorded")
    assert action["Digits"] == "hangup"
    assert action["CallStatus"] == "completed"
    assert action["RecordingSid"].startswith("RE")
    assert action["RecordingUrl"].endswith(action["RecordingSid"])
    assert int(action["RecordingDuration"]) >= 1
    assert [h["text"] for h in record.heard if h["kind"] == "say"] == []  # answer ignored
    assert record.status == "completed"
    assert action["RecordingSid"] in typed_network.recordings


def test_a_message_that_ends_in_silence_or_a_key_goes_on_as_before(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = (RECORD, XML)
    line.answers["/recorded"] = (SAY_HELLO, XML)
    call = typed_network.call_line(CALLER, say("it is me"))
    assert _spoken(typed_network, call.sid) == ["hello from the line"]
    call = typed_network.call_line(CALLER, press("#"))
    assert _spoken(typed_network, call.sid) == ["hello from the line"]
    first, second = line.requests_to("/recorded")
    assert "Digits" not in first
    assert second["Digits"] == "#"
    # Hanging up before saying anything leaves an empty recording: no action.
    call = typed_network.call_line(CALLER, hangup())
    typed_network.wait_for_call(call.sid, timeout=15)
    assert len(line.requests_to("/recorded")) == 2


def test_dial_action_says_whether_the_call_was_bridged(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, _ = typed_line
    dial = f'<Response><Dial action="/dialed"><Number>{COUNSELOR}</Number></Dial></Response>'
    line.answers["/voice/incoming"] = (dial, XML)
    line.answers["/dialed"] = ("<Response><Hangup/></Response>", XML)
    typed_network.phone(COUNSELOR, answer="no-answer")
    typed_network.wait_for_call(typed_network.call_line(CALLER).sid, timeout=15)
    typed_network.phone(COUNSELOR)
    typed_network.wait_for_call(typed_network.call_line(CALLER).sid, timeout=15)
    missed, bridged = line.requests_to("/dialed")
    assert (missed["DialCallStatus"], missed["DialBridged"]) == ("no-answer", "false")
    assert (bridged["DialCallStatus"], bridged["DialBridged"]) == ("completed", "true")


def test_gather_says_which_key_finished_it(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = (
        '<Response><Gather action="/menu"/><Gather action="/menu" numDigits="1"/></Response>',
        XML,
    )
    line.answers["/menu"] = ("<Response><Hangup/></Response>", XML)
    typed_network.wait_for_call(typed_network.call_line(CALLER, press("12#")).sid, timeout=15)
    line.answers["/voice/incoming"] = (
        '<Response><Gather action="/menu" numDigits="1"/></Response>',
        XML,
    )
    typed_network.wait_for_call(typed_network.call_line(CALLER, press("3")).sid, timeout=15)
    by_key, by_count = line.requests_to("/menu")
    assert (by_key["Digits"], by_key["FinishedOnKey"]) == ("12", "#")
    assert (by_count["Digits"], by_count["FinishedOnKey"]) == ("3", "")


def test_a_call_to_the_number_carries_a_call_token(
    typed_line: tuple[TypedLine, str], typed_network: Network
) -> None:
    line, _ = typed_line
    line.answers["/voice/incoming"] = ("<Response><Hangup/></Response>", XML)
    typed_network.wait_for_call(typed_network.call_line(CALLER).sid, timeout=15)
    typed_network.wait_for_call(typed_network.call_line(CALLER).sid, timeout=15)
    first, second = line.requests_to("/voice/incoming")
    assert len(first["CallToken"]) >= 64
    assert first["CallToken"] != second["CallToken"]  # one per call
