"""Calls through the official twilio client: the phone at `To` answers (or
not), runs the line's TwiML with its script, and every request it makes is
signed."""

from __future__ import annotations

import io
import wave

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ivr.platform.config import Settings
from ivr.platform.twilio_transport import TransportError, open_recording
from tests.emulator.conftest import CALLER, COUNSELOR, LINE_NUMBER, FakeLine
from tests.live import eventually
from twilio_emulator import Network, hangup, press, say, silence, wait
from twilio_emulator.phones import Step

MENU = """<Response>
  <Gather input="dtmf speech" numDigits="1" action="/twiml/chosen" timeout="5">
    <Say>Press 1 to talk, or say a word.</Say>
  </Gather>
  <Redirect>/twiml/menu</Redirect>
</Response>"""
BYE = "<Response><Say>Goodbye.</Say><Hangup/></Response>"


def call(
    rest: Client, fake_line: FakeLine, document: str = "menu", to: str = CALLER, **extra: object
) -> str:
    created = rest.calls.create(
        to=to,
        from_=LINE_NUMBER,
        url=f"{fake_line.url}/twiml/{document}",
        status_callback=f"{fake_line.url}/status",
        **extra,
    )
    return str(created.sid)


@pytest.fixture(autouse=True)
def documents(fake_line: FakeLine) -> None:
    fake_line.documents.update(menu=MENU, chosen=BYE)


def test_a_created_call_comes_back_queued_with_a_ca_sid(rest: Client, fake_line: FakeLine) -> None:
    created = rest.calls.create(to=CALLER, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/menu")
    assert created.sid.startswith("CA")
    assert len(created.sid) == 34
    assert created.status == "queued"
    assert created.direction == "outbound-api"
    assert (created.to, created._from) == (CALLER, LINE_NUMBER)
    assert created.uri.endswith(f"/Calls/{created.sid}.json")


def test_the_answering_phone_presses_a_key_and_the_action_gets_it_signed(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, press("1"))
    sid = call(rest, fake_line)
    chosen = eventually(lambda: fake_line.at("/twiml/chosen"))[0]
    assert chosen.signed
    assert chosen.form["Digits"] == "1"
    assert chosen.form["CallSid"] == sid
    first = fake_line.at("/twiml/menu")[0]
    assert first.signed
    assert (first.form["CallStatus"], first.form["Direction"]) == ("in-progress", "outbound-api")
    assert (first.form["From"], first.form["To"]) == (LINE_NUMBER, CALLER)
    assert first.form["ApiVersion"] == "2010-04-01"
    record = network.wait_for_call(sid)
    assert record.status == "completed"
    assert [h["text"] for h in record.heard if h["kind"] == "say"] == [
        "Press 1 to talk, or say a word.",
        "Goodbye.",
    ]


def test_words_are_posted_as_a_speech_result(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, say("talk to someone"))
    call(rest, fake_line)
    chosen = eventually(lambda: fake_line.at("/twiml/chosen"))[0]
    assert chosen.form["SpeechResult"] == "talk to someone"
    assert "Digits" not in chosen.form


def test_silence_falls_through_to_the_redirect(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, silence(), press("1"))
    sid = call(rest, fake_line)
    network.wait_for_call(sid)
    assert len(fake_line.at("/twiml/menu")) == 2
    assert len(fake_line.at("/twiml/chosen")) == 1


def test_the_status_callback_reports_the_end_with_the_duration(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, press("1"))
    events = ["initiated", "ringing", "answered", "completed"]
    sid = call(rest, fake_line, status_callback_event=events)
    network.wait_for_call(sid)
    hooks = eventually(lambda: len(fake_line.at("/status")) == 4 and fake_line.at("/status"))
    assert [h.form["CallStatus"] for h in hooks] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert all(h.signed for h in hooks)
    assert int(hooks[-1].form["CallDuration"]) > 0
    fetched = rest.calls(sid).fetch()
    assert fetched.status == "completed"
    assert fetched.duration == hooks[-1].form["CallDuration"]
    assert [c.sid for c in rest.calls.list(to=CALLER)] == [sid]


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_a_phone_that_does_not_pick_up_never_fetches_the_twiml(
    rest: Client, network: Network, fake_line: FakeLine, answer: str
) -> None:
    network.phone(CALLER, answer=answer)
    sid = call(rest, fake_line)
    assert network.wait_for_call(sid).status == answer
    hook = eventually(lambda: fake_line.at("/status"))[0]
    assert hook.form["CallStatus"] == answer
    assert fake_line.at("/twiml/menu") == []


def test_voicemail_answers_but_never_presses_a_key(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, answer="voicemail")
    sid = call(rest, fake_line, machine_detection="Enable")
    record = network.wait_for_call(sid)
    assert record.status == "completed"
    assert record.answered_by == "machine_start"
    assert fake_line.at("/twiml/chosen") == []
    assert len(fake_line.at("/twiml/menu")) > 1


def test_the_line_can_redirect_a_call_in_progress(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, wait(20))
    sid = call(rest, fake_line)
    eventually(lambda: network.calls[sid].activity == "waiting")
    rest.calls(sid).update(twiml="<Response><Say>You were moved.</Say></Response>")
    record = network.wait_for_call(sid)
    assert record.heard[-1]["text"] == "You were moved."
    assert record.fetches[-1].url == "(inline Twiml)"
    with pytest.raises(TwilioRestException) as raised:
        rest.calls(sid).update(url=f"{fake_line.url}/twiml/menu")
    assert (raised.value.code, raised.value.status) == (21220, 400)


def test_the_line_can_hang_up_a_call(rest: Client, network: Network, fake_line: FakeLine) -> None:
    network.phone(CALLER, wait(20))
    sid = call(rest, fake_line)
    eventually(lambda: network.calls[sid].activity == "waiting")
    assert rest.calls(sid).update(status="completed").status == "completed"


def test_the_line_can_cancel_a_ringing_call(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, ring_seconds=20)
    sid = call(rest, fake_line)
    eventually(lambda: network.calls[sid].activity == "ringing")
    assert rest.calls(sid).update(status="canceled").status == "canceled"
    assert fake_line.at("/twiml/menu") == []


WHISPERED_DIAL = f"""<Response>
  <Dial action="/twiml/dialed" timeout="20">
    <Number url="/twiml/whisper">{COUNSELOR}</Number>
  </Dial>
</Response>"""
WHISPER = """<Response>
  <Gather numDigits="1" action="/twiml/accepted"><Say>Press 1 to take this call.</Say></Gather>
  <Hangup/>
</Response>"""


def accepted(form: dict[str, str]) -> str:
    """The line's answer to the counselor's key: 1 connects (the document ends)."""
    return "<Response/>" if form.get("Digits") == "1" else "<Response><Hangup/></Response>"


@pytest.mark.parametrize(
    ("answer", "steps", "dial_status"),
    [
        ("answer", [press("1")], "completed"),
        ("voicemail", [], "no-answer"),
        ("answer", [silence()], "no-answer"),
        ("answer", [press("2")], "no-answer"),
        ("no-answer", [], "no-answer"),
        ("busy", [], "busy"),
    ],
)
def test_a_dialed_counselor_is_bridged_only_after_accepting_in_the_whisper(
    rest: Client,
    network: Network,
    fake_line: FakeLine,
    answer: str,
    steps: list[Step],
    dial_status: str,
) -> None:
    fake_line.documents.update(dial=WHISPERED_DIAL, whisper=WHISPER, accepted=accepted, dialed=BYE)
    network.phone(COUNSELOR, *steps, answer=answer)
    sid = call(rest, fake_line, document="dial")
    network.wait_for_call(sid)
    dialed = eventually(lambda: fake_line.at("/twiml/dialed"))[0]
    assert dialed.signed
    assert dialed.form["DialCallStatus"] == dial_status
    [leg] = [c for c in network.calls.values() if c.parent_call_sid == sid]
    assert leg.direction == "outbound-dial"
    assert dialed.form["DialCallSid"] == leg.sid


def test_a_recording_is_posted_to_the_record_action(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    fake_line.documents["record"] = (
        '<Response><Say>Leave a message.</Say><Record action="/twiml/recorded" maxLength="120"/>'
        "</Response>"
    )
    fake_line.documents["recorded"] = BYE
    network.phone(CALLER, say("please call me back tomorrow morning"), hangup())
    call(rest, fake_line, document="record")
    recorded = eventually(lambda: fake_line.at("/twiml/recorded"))[0]
    assert recorded.signed
    assert recorded.form["RecordingSid"].startswith("RE")
    assert recorded.form["RecordingUrl"].endswith(recorded.form["RecordingSid"])
    assert int(recorded.form["RecordingDuration"]) >= 1


def test_a_recording_can_be_fetched_as_twilio_serves_it(
    rest: Client, rest_settings: Settings, network: Network, fake_line: FakeLine
) -> None:
    """The resource through the official client, the audio as the line fetches
    it (ivr.platform.twilio_transport.open_recording): a WAV as long as what was said."""
    fake_line.documents["record"] = '<Response><Record action="/twiml/recorded"/></Response>'
    fake_line.documents["recorded"] = BYE
    network.phone(CALLER, say("please call me back tomorrow morning"), hangup())
    sid = call(rest, fake_line, document="record")
    recorded = eventually(lambda: fake_line.at("/twiml/recorded"))[0]
    recording_sid = recorded.form["RecordingSid"]
    resource = rest.recordings(recording_sid).fetch()
    assert (resource.sid, resource.call_sid, resource.status) == (recording_sid, sid, "completed")
    assert resource.duration == recorded.form["RecordingDuration"]
    audio = open_recording(rest_settings, recording_sid)
    try:
        body = audio.content
    finally:
        audio.close()
    assert audio.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(body)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
    assert seconds == int(recorded.form["RecordingDuration"])
    with pytest.raises(TransportError) as missing:
        open_recording(rest_settings, "RE" + "0" * 32)
    assert missing.value.permanent


def test_twiml_the_emulator_cannot_fetch_is_noted_on_the_call(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    sid = call(rest, fake_line, document="missing")
    record = network.wait_for_call(sid)
    assert record.errors[0]["code"] == 11200


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [({"code": 20429}, 20429, 429), ({"status": 500}, 20500, 500), ({"code": 21211}, 21211, 400)],
)
def test_injected_call_errors_reach_the_client(
    rest: Client,
    network: Network,
    fake_line: FakeLine,
    fault: dict[str, int],
    code: int,
    status: int,
) -> None:
    network.fail_next("calls", **fault)
    with pytest.raises(TwilioRestException) as raised:
        call(rest, fake_line)
    assert (raised.value.code, raised.value.status) == (code, status)


@pytest.mark.parametrize(
    ("to", "url", "code"),
    [("12345", "/twiml/menu", 21211), (CALLER, "", 21205)],
)
def test_twilio_checks_the_call_it_is_asked_to_place(
    rest: Client, fake_line: FakeLine, to: str, url: str, code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        rest.calls.create(to=to, from_=LINE_NUMBER, url=f"{fake_line.url}{url}" if url else "")
    assert raised.value.code == code


def test_an_unknown_call_is_20404(rest: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        rest.calls("CA" + "0" * 32).fetch()
    assert (raised.value.code, raised.value.status) == (20404, 404)


def test_a_single_line_phone_on_a_call_meets_a_second_with_busy(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, wait(20), single_line=True)
    first = call(rest, fake_line)
    eventually(lambda: network.calls[first].activity == "waiting")
    second = call(rest, fake_line)
    assert network.wait_for_call(second).status == "busy"
    rest.calls(first).update(status="completed")
    network.wait_for_call(first)
    third = call(rest, fake_line)  # the line is free again
    eventually(lambda: network.calls[third].activity == "waiting")
    rest.calls(third).update(status="completed")


def test_phones_take_any_number_of_calls_unless_single_line(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.phone(CALLER, wait(20))
    sids = [call(rest, fake_line) for _ in range(2)]
    eventually(lambda: all(network.calls[sid].activity == "waiting" for sid in sids))
    for sid in sids:
        rest.calls(sid).update(status="completed")


def test_more_calls_than_background_threads_all_play_at_once(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    """Each call leg has a thread of its own: the 65th caller is not kept
    waiting for one of the 64 delivery-report threads to come free."""
    numbers = [f"+1{area}5550{n}" for area in (202, 212, 213) for n in range(110, 140)]
    for number in numbers:
        network.phone(number, wait(20))
    sids = [call(rest, fake_line, to=number) for number in numbers]
    eventually(lambda: all(network.calls[sid].activity == "waiting" for sid in sids))
    for sid in sids:
        rest.calls(sid).update(status="completed")
