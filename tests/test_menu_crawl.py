"""Walk the whole phone menu, in both languages, with every key, silence and
every spoken choice: no response is an error, and none is a dead end."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
import redis

from ivr.content.model import CallbackNode, Content, MenuNode
from ivr.menu.fallback import fallback_done_response, fallback_response, goodbye_response
from ivr.menu.state import CallState, CallStates
from tests.rosters import store_always_on_call
from tests.twilio_signing import CallFixture, TwilioSigner
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
        steps.append(Step(enqueue.attrib["action"], (("QueueResult", "leave"),)))
    for record in twiml.iter("Record"):
        steps.append(
            Step(
                record.attrib["action"],
                (
                    ("RecordingSid", "RE" + "a" * 32),
                    ("RecordingDuration", "7"),
                    ("RecordingUrl", "https://api.twilio.com/2010-04-01/Recordings/REa"),
                ),
                finished_handoff=True,
            )
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


# The voice routes the crawl cannot reach from a caller's keys (a counselor's
# whisper, a returned call, the degraded path), asked with ids the line does
# not know, in each way Twilio may ask: what the line says then must be in
# range too. Status callbacks answer no TwiML and are left out.
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
    for where, twiml in documents:
        assert [problem.as_json() for problem in check_document(twiml)] == [], where
