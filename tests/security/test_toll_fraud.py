"""Toll fraud (issue #7, security review; CONTRACT "Outbound"): the line dials
only rostered counselors, HELPLINE_BACKUP_NUMBER, and a caller's own number
when that caller asked for a callback — never a number taken from input.

A runtime check, not a source grep. One scenario plays every way the line
places or bridges a call — a counselor rung for a caller, the backup line,
the fallback, a voicemail and a texted "call me" returned by a counselor —
through the Twilio emulator, with hostile input everywhere a person controls
it: phone numbers pressed, spoken and texted; another caller's callback
reference texted; and signed webhooks to every voice step with numbers in
Digits, SpeechResult, From, To and the rest, including forged From/To on the
callback steps. Meanwhile every place in the code that dials is watched (the
REST client's `calls.create`, TwiML `<Dial><Number>`), recording the number
and which module asked. Then:

- every `Calls.json` create the emulator received rang a rostered counselor;
- every call leg the emulator placed (created or `<Dial>`ed), and every
  `<Number>` in any TwiML the line answered with, is a counselor, the backup
  line, or the own number of someone who asked for a callback — and the
  latter only inside a call already put through to a counselor;
- each dialling module took its number from where it should: the ring and
  callback jobs from the roster, the menu's and the fallback's `<Dial>` from
  the settings, the callback step from the callback request, whose number is
  the `From` Twilio gave for the call or text that asked;
- no number from the hostile input appears in any of it.
"""

from __future__ import annotations

import inspect
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from twilio.rest.api.v2010.account.call import CallList
from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.callbacks.requests import Callbacks
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import PROJECT_ROOT
from tests.conftest import PUBLIC_URL
from tests.live import LINE_NUMBER, LiveLine
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from twilio_emulator import hangup, press, say, talk

CALLER = "+12025550123"  # calls and asks for a counselor
TO_BACKUP = "+12025550124"  # nobody on call: asks for the backup line
LEAVES_MESSAGE = "+12025550144"  # leaves a voicemail, so asks to be called back
TEXTER = "+12025550177"  # texts CALL, so asks to be called back
STRANGER = "+12025550188"  # texts another caller's reference; never asked for a call

# Numbers an attacker would like the line to ring: premium rate, international,
# a stranger, and the line itself.
HOSTILE = ("+19005550199", "+441632960999", "+882345678901", "+12025550150", LINE_NUMBER)
HOSTILE_WORDS = [
    "19005550199",
    "+1 900 555 0199",
    "call +441632960999 now",
    "dial 1-900-555-0199#",
    "my number is (202) 555-0150",
    "+882345678901",
]
ROOT = Path(PROJECT_ROOT).resolve()


# -- watching every place that dials -------------------------------------------------


@dataclass(frozen=True)
class Dialled:
    how: str  # "rest" (calls.create) or "twiml" (<Dial><Number>)
    number: str
    where: str  # the project module that asked, e.g. "workers/dispatch.py"


@dataclass
class Watch:
    dialled: list[Dialled] = field(default_factory=list)

    def record(self, how: str, number: str) -> None:
        self.dialled.append(Dialled(how, number, _asked_from()))


def _asked_from() -> str:
    """The innermost frame in the project's own ivr/ or workers/ code."""
    for frame in inspect.stack()[2:]:
        path = Path(frame.filename).resolve()
        if path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in ("ivr", "workers"):
            return str(path.relative_to(ROOT))
    return "elsewhere"


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    """Every call the line places through the Twilio client, and every number
    it puts in a <Dial>, in this process (the live line's server and the jobs
    run_jobs runs both live here)."""
    seen = Watch()
    create, number, dial = CallList.create, Dial.number, VoiceResponse.dial

    def watched_create(self: CallList, to: str, *args: Any, **kwargs: Any) -> Any:
        seen.record("rest", to)
        return create(self, to, *args, **kwargs)

    def watched_number(self: Dial, phone_number: str, *args: Any, **kwargs: Any) -> Any:
        seen.record("twiml", phone_number)
        return number(self, phone_number, *args, **kwargs)

    def watched_dial(self: VoiceResponse, number: str | None = None, **kwargs: Any) -> Any:
        if number:  # <Dial>NUMBER</Dial>, without a <Number> noun
            seen.record("twiml", number)
        return dial(self, number, **kwargs)

    monkeypatch.setattr(CallList, "create", watched_create)
    monkeypatch.setattr(Dial, "number", watched_number)
    monkeypatch.setattr(VoiceResponse, "dial", watched_dial)
    return seen


# -- playing the scenario ---------------------------------------------------------------


def run_until(line: LiveLine, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        line.run_jobs()
        if done():
            return
        assert time.monotonic() < deadline, "the scenario did not finish in time"
        time.sleep(0.05)


def call_over(line: LiveLine, sid: str) -> Callable[[], bool]:
    return lambda: line.network.calls[sid].finished and line.network.live_leg(sid) is None


def post(line: LiveLine, path: str, fields: dict[str, str]) -> str:
    """A signed webhook to the live line, as the emulator (Twilio) signs them."""
    delivery = line.network.webhooks.send(PUBLIC_URL + path, fields)
    assert delivery.status in (200, 204), (path, delivery.status)
    return delivery.body


def hostile_fields(call_sid: str, words: str, number: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": number,
        "To": number,
        "Called": number,
        "Caller": number,
        "ForwardedFrom": number,
        "Digits": words,
        "SpeechResult": words,
        "UnstableSpeechResult": words,
        "Body": words,
        "DialCallStatus": "no-answer",
        "QueueResult": "leave",
        "RecordingSid": "",
        "RecordingUrl": "",
    }


def returned(line: LiveLine, reference: str) -> Callable[[], bool]:
    callbacks = Callbacks(line.redis, line.settings.secret_key, 3600)
    return lambda: callbacks.get(reference).get("status") == "done"


def return_call(line: LiveLine, reference: str, person: str) -> None:
    """A counselor returns the callback: rung first, presses 1; then the line
    dials the person, they talk; the counselor presses 1: reached."""
    line.network.phone(COUNSELOR_A, press("1"), press("1"))
    line.network.phone(person, talk(0.2))
    Queue(QUEUE_NAME, connection=line.redis).enqueue("workers.callbacks.connect", reference, "alex")
    run_until(line, returned(line, reference))


def play(line: LiveLine) -> list[str]:
    """Everything; returns the TwiML of the hostile webhooks' answers."""
    network, answers = line.network, []
    backup = line.settings.backup_number
    callbacks = Callbacks(line.redis, line.settings.secret_key, 3600)

    # Nobody on call. The backup line, asked for with a number spoken and pressed.
    network.phone(backup, talk(0.2))
    call = network.call_line(
        TO_BACKUP, say("call 1 900 555 0199"), press("1"), say("+441632960999"), press("2")
    )
    run_until(line, call_over(line, call.sid))
    # A voicemail with a number in it: a request to call back the caller's own number.
    call = network.call_line(
        LEAVES_MESSAGE,
        press("1"),
        press("1"),
        press("1"),
        say("call me at 1 900 555 0199"),
        hangup(),
    )
    run_until(line, call_over(line, call.sid))
    (voicemail,) = callbacks.open_references()

    # Texts with numbers in them, and another caller's reference.
    for body in ("CALL +19005550199", "call me at 1-900-555-0199 please"):
        network.text_line(TEXTER, body)
    network.text_line(STRANGER, f"CALL {voicemail}")
    network.text_line(STRANGER, f"{voicemail} +441632960999")
    line.run_jobs()

    # Counselors on call. A caller presses a number, says one, then asks for a person.
    store_always_on_call(line.redis, ("alex", COUNSELOR_A, ["en"]))
    network.phone(COUNSELOR_A, press("1"))
    call = network.call_line(
        CALLER, press("19005550199"), say("+1 900 555 0199"), press("0"), talk(0.3)
    )
    run_until(line, call_over(line, call.sid))

    # Every callback returned. The stranger's text made a request for the
    # stranger's own number, never for the reference's owner.
    for reference in callbacks.open_references():
        number = callbacks.get(reference)["number"]
        if number != STRANGER:
            return_call(line, reference, number)

    # Signed webhooks to every voice step with numbers in every field. The one
    # open request left is the stranger's: its steps, with From and To forged.
    references = callbacks.open_references()
    dispatches = sorted(
        k.decode().split(":")[1]
        for k in line.redis.scan_iter("dispatch:*")
        if k.decode().count(":") == 1
    )
    nodes = list(line.content.voice.nodes)
    paths = [f"/voice/{step}/{node}" for step in ("node", "menu", "dial-done", "recorded")
             for node in nodes]  # fmt: skip
    paths += ["/voice/incoming", "/voice/fallback-done", "/voice/status"]
    for dispatch in dispatches[:2]:
        paths += [f"/voice/{step}/{dispatch}" for step in
                  ("hold", "hold-choice", "queue-done", "after-hold")]  # fmt: skip
        paths += [f"/voice/{step}/{dispatch}/1" for step in
                  ("whisper", "whisper-over", "whisper-answer", "counselor-done")]  # fmt: skip
    for reference in references:
        paths += [f"/voice/{step}/{reference}" for step in
                  ("callback-whisper", "callback-answer", "callback-done")]  # fmt: skip
    sids = ["CA" + "e" * 32, "not-a-call-sid"]  # the second gets the fallback, which dials
    for n, path in enumerate(paths):
        words = HOSTILE_WORDS[n % len(HOSTILE_WORDS)]
        number = HOSTILE[n % len(HOSTILE)]
        for sid in sids:
            answers.append(post(line, path, hostile_fields(sid, words, number)))
    # The callback step pressed 1 with a forged From: it dials the request's number.
    for reference in references:
        fields = hostile_fields("CA" + "d" * 32, "1", HOSTILE[0])
        answers.append(post(line, f"/voice/callback-answer/{reference}", fields))
    for body in HOSTILE_WORDS:
        network.text_line(HOSTILE[1], body)
    network.wait_until(network.idle, timeout=10)
    line.run_jobs()
    network.wait_until(network.idle, timeout=10)
    return answers


# -- what the network saw ---------------------------------------------------------------


def numbers_in(twiml: str) -> list[str]:
    if not twiml.strip().startswith("<"):
        return []
    root = ET.fromstring(twiml)  # noqa: S314 - the line's own answer
    found = [(n.text or "").strip() for n in root.iter("Number")]
    found += [(d.text or "").strip() for d in root.iter("Dial") if (d.text or "").strip()]
    return found


def test_the_line_dials_only_counselors_the_backup_and_callers_who_asked(
    live_line: LiveLine, watch: Watch
) -> None:
    answers = play(live_line)
    network = live_line.network
    backup = live_line.settings.backup_number
    counselors = {COUNSELOR_A, COUNSELOR_B}
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 3600)
    requests = [callbacks.get(r) for r in callbacks.open_references()]
    requests += [callbacks.get(r) for r in callbacks.done_references()]
    asked = {r["number"] for r in requests}
    # Each request holds the own number of whoever asked, never one from their words.
    assert asked == {LEAVES_MESSAGE, TEXTER, STRANGER}, asked
    allowed = counselors | {backup} | asked

    # Twilio's REST API: only counselors were ever rung by the line itself.
    creates = [
        r for r in network.requests
        if r["method"] == "POST" and r["path"].endswith("/Calls.json")
    ]  # fmt: skip
    assert creates, "the scenario rang nobody"
    assert {r["params"]["To"] for r in creates} <= counselors
    assert all(r["params"]["From"] == LINE_NUMBER for r in creates)

    # Every leg the network placed, created or dialled from TwiML.
    legs = [c for c in network.calls.values() if c.direction != "inbound"]
    assert {c.to for c in legs} <= allowed, {c.to for c in legs}
    assert backup in {c.to for c in legs}
    for leg in legs:
        if leg.to in asked:
            # A caller's own number is dialled only from a counselor's leg.
            parent = network.calls[str(leg.parent_call_sid)]
            assert parent.to in counselors, (leg.to, parent.to)
    assert {LEAVES_MESSAGE, TEXTER} <= {c.to for c in legs}  # both returned
    assert STRANGER not in {c.to for c in legs}

    # Every <Number> in every TwiML the line answered with.
    fetched = [f.twiml for c in network.calls.values() for f in c.fetches]
    dialled_in_twiml = [n for twiml in fetched + answers for n in numbers_in(twiml)]
    assert dialled_in_twiml
    assert set(dialled_in_twiml) <= allowed, set(dialled_in_twiml) - allowed

    # Where each number came from, module by module.
    sources = {
        ("rest", "workers/dispatch.py"): counselors,  # ringing a caller's counselors
        ("rest", "workers/callbacks.py"): counselors,  # ringing the one returning a call
        ("twiml", "ivr/menu/engine.py"): {backup},  # the menu's backup node
        ("twiml", "ivr/menu/fallback.py"): {backup},  # the response of last resort
        ("twiml", "ivr/web/voice/callback_routes.py"): asked,  # the request's own number
    }
    for dialled in watch.dialled:
        expected = sources.get((dialled.how, dialled.where))
        assert expected is not None, f"{dialled}: a new place that dials; say where from"
        assert dialled.number in expected, dialled
    assert {(d.how, d.where) for d in watch.dialled} == set(sources), "a dialler not exercised"

    # And nothing anyone typed, said or texted was ever dialled.
    everything = {c.to for c in legs} | set(dialled_in_twiml)
    everything |= {d.number for d in watch.dialled}
    assert not everything & set(HOSTILE)


def test_a_callback_step_dials_the_requests_number_whatever_the_webhook_says(
    live_line: LiveLine, watch: Watch
) -> None:
    """Forged From/To/Called on the callback legs, a reference from another
    caller: the <Dial> is the number kept with the request, or nothing."""
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 3600)
    reference = callbacks.create(LEAVES_MESSAGE, "en", "voicemail")
    for forged in HOSTILE:
        fields = hostile_fields("CA" + "c" * 32, "1", forged)
        twiml = post(live_line, f"/voice/callback-answer/{reference}", fields)
        assert numbers_in(twiml) == [LEAVES_MESSAGE], twiml
        live_line.redis.delete(f"callback:{reference}:dialing")
    unknown = post(live_line, "/voice/callback-answer/CB-ZZZZZZ", hostile_fields(
        "CA" + "c" * 32, "1", HOSTILE[0]))  # fmt: skip
    assert numbers_in(unknown) == []
    callbacks.mark(reference, "done")
    done = post(live_line, f"/voice/callback-answer/{reference}",
                hostile_fields("CA" + "c" * 32, "1", HOSTILE[0]))  # fmt: skip
    assert numbers_in(done) == []
    assert {d.number for d in watch.dialled} == {LEAVES_MESSAGE}
