"""Walk the whole phone menu, in both languages, with every key, silence and
every spoken choice: no response is an error, and none is a dead end."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
import redis

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.content.model import CallbackNode, Content, MenuNode
from ivr.menu.fallback import fallback_done_response, fallback_response, goodbye_response
from ivr.menu.state import CallState, CallStates
from ivr.routing.dispatches import Dispatches
from tests.rosters import store_always_on_call
from tests.twilio_signing import CallFixture, TwilioSigner, gather_action, spoken
from twilio_emulator.twiml_values import check_document

KEYS = [*"0123456789", "*", "#"]
HANDOFFS = {"Dial", "Enqueue", "Record"}


@dataclass(frozen=True)
class Step:
    url: str
    fields: tuple[tuple[str, str], ...]
    finished_handoff: bool = False  # a hang-up is the right end after this step
    hold_music: bool = False  # a waitUrl: Twilio plays it again and again while the caller waits


def node_of(url: str) -> str:
    return url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


def check_response(twiml: ET.Element, step: Step) -> None:
    where = f"{step.url} {dict(step.fields)}"
    assert twiml.tag == "Response", where
    verbs = [child.tag for child in twiml]
    assert verbs, f"empty response: {where}"
    # Every value in range, as Twilio judges it: no debugger warning, no error.
    assert [problem.as_json() for problem in check_document(twiml)] == [], where
    for index, verb in enumerate(verbs):
        if verb == "Gather":
            assert verbs[index + 1 : index + 2] == ["Redirect"], f"Gather without fallback: {where}"
    for say in twiml.iter("Say"):
        assert (say.text or "").strip(), f"empty Say: {where}"
        assert say.attrib.get("language"), where
        assert say.attrib.get("voice"), where
    if step.hold_music:
        return  # it loops by itself; <Leave> hands the caller to the Enqueue action
    continues = verbs[-1] in ("Redirect", "Gather") or bool(HANDOFFS & set(verbs))
    ends_after_handoff = verbs[-1] == "Hangup" and (step.finished_handoff or "Record" in verbs)
    assert continues or ends_after_handoff, f"dead end {verbs}: {where}"


def next_steps(twiml: ET.Element, content: Content, language: str) -> list[Step]:
    steps: list[Step] = []
    for gather in twiml.iter("Gather"):
        action = gather.attrib["action"]
        steps += [Step(action, (("Digits", key),)) for key in KEYS]
        menu = content.voice.nodes[node_of(action)]
        nav = content.navigation
        if isinstance(menu, CallbackNode):
            # A callback number: one we can call, one we cannot, said aloud.
            steps += [Step(action, (("Digits", typed),)) for typed in ("2025550143", "12")]
            steps.append(Step(action, (("SpeechResult", "202 555 0143"), ("Confidence", "0.8"))))
        else:
            assert isinstance(menu, MenuNode)
        for choice in (*menu.choices, nav.person, nav.main_menu):
            for phrase in choice.words.get(language, ()):
                steps.append(Step(action, (("SpeechResult", phrase), ("Confidence", "0.8"))))
    after_recording = twiml.find("Record") is not None
    for redirect in twiml.iter("Redirect"):
        # Silence at a menu, or the next node (after a voicemail: its goodbye).
        steps.append(Step((redirect.text or "").strip(), (), finished_handoff=after_recording))
    for dial in twiml.iter("Dial"):
        for status in ("completed", "no-answer", "busy", "failed", "canceled"):
            steps.append(
                Step(
                    dial.attrib["action"],
                    (("DialCallStatus", status),),
                    finished_handoff=status == "completed",
                )
            )
    for enqueue in twiml.iter("Enqueue"):
        steps.append(Step(enqueue.attrib["waitUrl"], (("QueueTime", "40"),), hold_music=True))
        for result in ("bridged", "hangup"):
            steps.append(
                Step(enqueue.attrib["action"], (("QueueResult", result),), finished_handoff=True)
            )
        # The caller is still on the line after these: a worker's redirect,
        # a full queue, Twilio's own failure, or the hold page's <Leave/>.
        for result in ("leave", "redirected", "queue-full", "error"):
            steps.append(Step(enqueue.attrib["action"], (("QueueResult", result),)))
    for record in twiml.iter("Record"):
        recording = (
            ("RecordingSid", "RE" + "a" * 32),
            ("RecordingDuration", "7"),
            ("RecordingUrl", "https://api.twilio.com/2010-04-01/Recordings/REa"),
        )
        steps.append(Step(record.attrib["action"], recording, finished_handoff=True))
        # Hung up while recording: Twilio still requests the action, with
        # Digits=hangup (the <Record> page); nobody is left to hear it.
        steps.append(
            Step(record.attrib["action"], (*recording, ("Digits", "hangup")), finished_handoff=True)
        )
    return steps


@pytest.mark.parametrize("staffed", [True, False], ids=["counselors on call", "nobody on call"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_whole_menu_has_no_dead_end(
    twilio: TwilioSigner,
    content: Content,
    redis_client: redis.Redis,
    language: str,
    staffed: bool,
) -> None:
    if staffed:
        store_always_on_call(redis_client)
    states = CallStates(redis_client, 3600)
    first = CallFixture(twilio)
    greeting = first.start()
    if language == "es":
        greeting = first.press(greeting, "9")
    check_response(greeting, Step("/voice/incoming", ()))
    todo = next_steps(greeting, content, language)
    seen: set[Step] = set()
    menus_reached: set[str] = set()
    while todo:
        step = todo.pop()
        if step in seen:
            continue
        seen.add(step)
        # Each step on a fresh call placed where the step happens, in this language.
        call = CallFixture(twilio)
        states.save(call.sid, CallState(language=language, node=node_of(step.url)))
        twiml = call.post(step.url, **dict(step.fields))
        check_response(twiml, step)
        for gather in twiml.iter("Gather"):
            menus_reached.add(node_of(gather.attrib["action"]))
        todo += [s for s in next_steps(twiml, content, language) if s not in seen]
    every_menu = {
        n.id
        for n in content.voice.nodes.values()
        if isinstance(n, MenuNode) or (isinstance(n, CallbackNode) and n.consent == "other_number")
    }
    assert menus_reached == every_menu
    assert len(seen) > 100


def in_range(documents: list[tuple[str, ET.Element]]) -> None:
    for where, twiml in documents:
        assert twiml.tag == "Response", where
        assert [problem.as_json() for problem in check_document(twiml)] == [], where


@pytest.mark.parametrize("language", ["en", "es"])
def test_what_counselors_hear_on_real_work_is_in_range(
    twilio: TwilioSigner, redis_client: redis.Redis, language: str
) -> None:
    """The documents a caller's keys never reach, met on real work: a waiting
    caller's dispatch (whispered to a counselor who speaks the language and
    to one who does not), a returned call and a message to listen to, each
    step as Twilio asks it."""
    store_always_on_call(redis_client)
    documents: list[tuple[str, ET.Element]] = []

    def keep(where: str, twiml: ET.Element) -> ET.Element:
        documents.append((where, twiml))
        return twiml

    caller = CallFixture(twilio)
    menu = caller.start()
    if language == "es":
        menu = caller.press(menu, "9")
    enqueue = keep("hold for a counselor", caller.press(menu, "1")).find("Enqueue")
    assert enqueue is not None
    wait_url, queue_action = enqueue.attrib["waitUrl"], enqueue.attrib["action"]
    dispatch_id = node_of(wait_url)
    keep("hold, first round", caller.post(wait_url, QueueTime="0"))
    keep("hold, later round", caller.post(wait_url, QueueTime="40"))
    dispatches = Dispatches(redis_client, 3600)
    legs = {
        counselor: dispatches.add_leg(dispatch_id, counselor, 1, first=n == 0)
        for n, counselor in enumerate(("alex", "blanca"))  # alex speaks English only
    }
    for counselor, leg in legs.items():
        assert leg is not None
        phone = CallFixture(twilio, caller="+18885550100")
        keep(f"whisper to {counselor}", phone.post(f"/voice/whisper/{dispatch_id}/{leg}"))
    taker, other = legs["blanca"], legs["alex"]
    phone = CallFixture(twilio, caller="+18885550100")
    accept = f"/voice/whisper-answer/{dispatch_id}/{taker}"
    dial = keep("whisper, 1", phone.post(accept, Digits="1")).find("Dial")
    assert dial is not None
    assert dial.find("Queue") is not None
    keep("whisper, 1 again", phone.post(accept, Digits="1"))
    keep("hold while connected", caller.post(wait_url, QueueTime="41"))
    for route in ("whisper", "whisper-over", "whisper-answer"):
        keep(f"{route} once taken", phone.post(f"/voice/{route}/{dispatch_id}/{other}", Digits="1"))
    keep("caller's talk over", caller.post(queue_action, QueueResult="bridged"))
    keep(
        "counselor's talk over",
        phone.post(dial.attrib["action"], DialCallStatus="completed", DialBridged="true"),
    )

    reference = Callbacks(redis_client, "k", 3600).create("+12025550177", language, "voicemail")
    phone = CallFixture(twilio, caller="+18885550100")
    keep("callback whisper", phone.post(f"/voice/callback-whisper/{reference}"))
    dialing = keep("callback, 1", phone.post(f"/voice/callback-answer/{reference}", Digits="1"))
    callback_dial = dialing.find("Dial")
    assert callback_dial is not None
    done = callback_dial.attrib["action"]
    keep("callback, no answer", phone.post(done, DialCallStatus="no-answer"))
    asked = keep("callback, answered", phone.post(done, DialCallStatus="completed"))
    keep("callback outcome", phone.post(gather_action(asked), Digits="1"))

    recording = "RE" + "b" * 32
    redis_client.hset(f"voicemail:{recording}", mapping={"recording_sid": recording})
    UrgentItems(redis_client, 3600).open(
        "VM-333333", "message", language, time.time() + 900, subject=recording
    )
    phone = CallFixture(twilio, caller="+18885550100")
    offer = keep("message offer", phone.post("/voice/message-offer/VM-333333/alex"))
    keep("message played", phone.post(gather_action(offer), Digits="1"))

    # Each step met the real work, not a refusal of an id the line did not know.
    verbs = {where: [verb.tag for verb in twiml] for where, twiml in documents}
    assert verbs["whisper to blanca"] == ["Gather", "Redirect"]
    assert verbs["whisper, 1"] == verbs["whisper, 1 again"] == ["Say", "Dial"]
    assert verbs["hold while connected"] == ["Pause"]
    assert verbs["callback, 1"] == ["Say", "Dial"]
    assert verbs["callback, answered"] == ["Gather", "Redirect"]
    assert verbs["message played"] == ["Play", "Gather", "Hangup"]
    spoken_here = " ".join(spoken(twiml) for _, twiml in documents)
    assert "VM-333333" in spoken_here
    assert reference in spoken_here
    in_range(documents)


# The voice routes the crawl cannot reach from a caller's keys, asked as well
# with ids the line does not know, in each way Twilio may ask: what the line
# says then must be in range too. Status callbacks answer no TwiML and are
# left out.
OTHER_ROUTES = [
    "/voice/hold-choice/d0",
    "/voice/after-hold/d0",
    "/voice/whisper/d0/l0",
    "/voice/whisper-over/d0/l0",
    "/voice/whisper-answer/d0/l0",
    "/voice/counselor-done/d0/l0",
    "/voice/callback-whisper/r0",
    "/voice/callback-answer/r0",
    "/voice/callback-done/r0",
    "/voice/callback-outcome/r0",
    "/voice/message-offer/VM-222222/alex",
    "/voice/message-play/VM-222222/alex",
    "/voice/fallback-done",
    "/voice/fallback-recorded",
]
ASKED_WITH = [
    (),
    (("Digits", "1"),),
    (("Digits", "2"),),
    (("SpeechResult", "yes"), ("Confidence", "0.8")),
    (("DialCallStatus", "no-answer"),),
    (("DialCallStatus", "completed"),),
]


def test_every_other_voice_document_is_in_range(twilio: TwilioSigner, content: Content) -> None:
    documents: list[tuple[str, ET.Element]] = []
    for route in OTHER_ROUTES:
        for fields in ASKED_WITH:
            where = f"{route} {dict(fields)}"
            documents.append((where, CallFixture(twilio).post(route, **dict(fields))))
    for language in (None, *content.languages):
        built = [
            fallback_response(content, "+12025550199", lambda name: f"/{name}", language),
            goodbye_response(content, language),
        ]
        built += [
            fallback_done_response(content, status, lambda name: f"/{name}", language)
            for status in ("completed", "no-answer", "busy", "failed")
        ]
        documents += [
            (f"fallback {language}", ET.fromstring(str(made)))  # noqa: S314 - built here
            for made in built
        ]
    assert len(documents) > len(OTHER_ROUTES)
    in_range(documents)
