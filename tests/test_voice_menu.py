"""The phone menu as a caller meets it: crisis numbers first, keys and words,
wrong keys and silence, the way to a person, and state that expires."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import redis
from rq import Queue

from ivr.callbacks.voicemail import INDEX
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from tests.rosters import store_always_on_call
from tests.twilio_signing import (
    CallFixture,
    TwilioSigner,
    gather_action,
    node_said,
    redirect_url,
    said,
    spoken,
)

BACKUP = "+12025550199"


@pytest.fixture
def call(twilio: TwilioSigner) -> CallFixture:
    return CallFixture(twilio)


def dialed(twiml: ET.Element) -> list[str]:
    return [(n.text or "").strip() for n in twiml.iter("Number")]


def test_the_greeting_names_911_and_988_first_and_can_be_answered_during_it(
    call: CallFixture,
) -> None:
    """The greeting is spoken inside the main menu's <Gather>: a key or words
    during it answer the menu; and the first thing said names 911 and 988."""
    twiml = call.start()
    assert [child.tag for child in twiml] == ["Gather", "Redirect"]
    first = next(twiml.iter("Say")).text or ""
    assert "9 1 1" in first
    assert "9 8 8" in first
    assert "free and confidential" in spoken(twiml)
    gather = twiml[0]
    assert gather.get("input") == "dtmf speech"
    assert "9 1 1" in (gather[0].text or "")


def test_a_key_pressed_during_the_greeting_answers_the_menu(call: CallFixture) -> None:
    twiml = call.start()
    assert twiml[0].get("action", "").endswith("/voice/menu/main")


def test_every_gather_listens_for_keys_and_speech_and_is_followed_by_a_redirect(
    call: CallFixture,
) -> None:
    twiml = call.start()
    children = list(twiml)
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "dtmf speech"
    assert gather.attrib["language"] == "en-US"
    assert children[children.index(gather) + 1].tag == "Redirect"
    assert redirect_url(twiml) == gather_action(twiml)


@pytest.mark.parametrize(
    ("digit", "heard"),
    [
        ("2", "learn"),
        ("3", "insurance"),
        ("4", "text_menu"),
    ],
)
def test_main_menu_keys_lead_to_their_menus(
    call: CallFixture, content: Content, digit: str, heard: str
) -> None:
    twiml = call.press(call.start(), digit)
    assert node_said(content, heard) in spoken(twiml)
    assert gather_action(twiml).endswith(f"/voice/menu/{heard}")


def enqueued(twiml: ET.Element) -> bool:
    return twiml.find("Enqueue") is not None


@pytest.fixture
def on_call(redis_client: redis.Redis) -> None:
    store_always_on_call(redis_client)


@pytest.mark.usefixtures("on_call")
def test_one_puts_the_caller_on_hold_for_a_counselor(call: CallFixture, content: Content) -> None:
    twiml = call.press(call.start(), "1")
    assert enqueued(twiml)
    assert node_said(content, "counselor") in spoken(twiml)


def test_with_nobody_on_call_the_caller_hears_the_other_choices(
    call: CallFixture, content: Content
) -> None:
    twiml = call.press(call.start(), "1")
    assert not enqueued(twiml)
    assert gather_action(twiml).endswith("/voice/menu/no_counselor")
    backup = call.press(twiml, "2")
    assert dialed(backup) == [BACKUP]


@pytest.mark.usefixtures("on_call")
@pytest.mark.parametrize("menu_path", [["2"], ["3"], ["4"], ["2", "1"]])
def test_zero_reaches_a_person_from_every_menu(call: CallFixture, menu_path: list[str]) -> None:
    twiml = call.start()
    for digit in menu_path:
        twiml = call.press(twiml, digit)
    assert enqueued(call.press(twiml, "0"))


def test_star_returns_to_the_main_menu(call: CallFixture, content: Content) -> None:
    submenu = call.press(call.start(), "2")
    twiml = call.press(submenu, "*")
    assert gather_action(twiml).endswith("/voice/menu/main")
    assert node_said(content, "main") in spoken(twiml)


def test_saying_menu_returns_to_the_main_menu(call: CallFixture) -> None:
    twiml = call.say(call.press(call.start(), "2"), "Main menu, please.")
    assert gather_action(twiml).endswith("/voice/menu/main")


def test_a_wrong_key_says_so_and_asks_again(call: CallFixture, content: Content) -> None:
    twiml = call.press(call.start(), "7")
    assert spoken(twiml).startswith(said(content, "not_understood"))
    assert gather_action(twiml).endswith("/voice/menu/main")


def test_silence_asks_again(call: CallFixture, content: Content) -> None:
    twiml = call.silence(call.start())
    assert spoken(twiml).startswith(said(content, "no_input"))
    assert gather_action(twiml).endswith("/voice/menu/main")


@pytest.mark.usefixtures("on_call")
def test_after_the_last_try_the_caller_is_taken_to_a_person(
    call: CallFixture, content: Content
) -> None:
    twiml = call.start()
    for _ in range(content.navigation.tries - 1):
        twiml = call.press(twiml, "7")
        assert twiml.find("Gather") is not None
    twiml = call.silence(twiml)
    assert said(content, "too_many_tries") in spoken(twiml)
    assert enqueued(twiml)


def test_a_correct_choice_starts_the_tries_afresh(call: CallFixture, content: Content) -> None:
    twiml = call.press(call.start(), "7")
    submenu = call.press(twiml, "2")
    for _ in range(content.navigation.tries - 1):
        submenu = call.press(submenu, "7")
        assert submenu.find("Gather") is not None


@pytest.mark.parametrize(
    ("words", "menu"),
    [
        ("I want to learn about Klonopin", "learn"),
        ("two", "learn"),
        ("Insurance.", "insurance"),
        ("TEXT MESSAGE", "text_menu"),
    ],
)
def test_spoken_choices(call: CallFixture, words: str, menu: str) -> None:
    twiml = call.say(call.start(), words)
    assert gather_action(twiml).endswith(f"/voice/menu/{menu}")


@pytest.mark.usefixtures("on_call")
def test_asking_for_a_counselor_in_words_connects(call: CallFixture) -> None:
    assert enqueued(call.say(call.start(), "can I talk to someone"))


@pytest.mark.usefixtures("on_call")
def test_nine_switches_to_spanish_and_spanish_words_work(
    call: CallFixture, content: Content
) -> None:
    twiml = call.press(call.start(), "9")
    says = list(twiml.iter("Say"))
    assert says
    # All in Spanish, but the offer of English, said by the English voice.
    offer = [s for s in says if s.attrib["language"] != "es-US"]
    assert [(s.attrib["language"], s.text) for s in offer] == [("en-US", "For English, press 9.")]
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.attrib["language"] == "es-US"
    assert node_said(content, "main", "es") in spoken(twiml)
    learn = call.say(twiml, "quiero informarme sobre las benzodiacepinas")
    assert gather_action(learn).endswith("/voice/menu/learn")
    assert node_said(content, "learn", "es") in spoken(learn)
    assert enqueued(call.say(learn, "quiero hablar con alguien"))


def test_nine_in_spanish_goes_back_to_english(call: CallFixture) -> None:
    spanish = call.press(call.start(), "9")
    english = call.press(spanish, "9")
    offer = [s for s in english.iter("Say") if s.attrib["language"] != "en-US"]
    assert [(s.attrib["language"], s.text) for s in offer] == [("es-US", "Para español, oprima 9.")]


def test_an_expired_call_starts_over_at_the_greeting(
    call: CallFixture, content: Content, redis_client: redis.Redis
) -> None:
    twiml = call.start()
    redis_client.flushall()  # the state's TTL ran out
    again = call.press(twiml, "2")
    assert node_said(content, "greeting") in spoken(again)
    assert gather_action(again).endswith("/voice/menu/main")


def test_an_unknown_step_starts_over_at_the_greeting(call: CallFixture, content: Content) -> None:
    call.start()
    twiml = call.post("/voice/node/no-such-node")
    assert node_said(content, "greeting") in spoken(twiml)
    twiml = call.post("/voice/menu/no-such-menu", Digits="1")
    assert node_said(content, "greeting") in spoken(twiml)


def test_call_state_expires(call: CallFixture, redis_client: redis.Redis) -> None:
    call.start()
    ttl = redis_client.ttl(f"call:{call.sid}")
    assert 0 < ttl <= 4 * 3600


def test_a_finished_call_forgets_its_state(call: CallFixture, redis_client: redis.Redis) -> None:
    """Minutes after the call, not hours: Twilio may still request a message's
    Record action after the status callback, in the caller's language."""
    call.start()
    assert redis_client.ttl(f"call:{call.sid}") > 600
    response = call.twilio.post("/voice/status", call.params(CallStatus="completed"))
    assert response.status_code == 204
    assert 0 < redis_client.ttl(f"call:{call.sid}") <= 600


def _text_me_about_klonopin(call: CallFixture) -> ET.Element:
    return call.press(call.press(call.start(), "4"), "1")


def test_text_me_queues_a_job_that_carries_no_phone_number(
    call: CallFixture, content: Content, redis_client: redis.Redis
) -> None:
    twiml = _text_me_about_klonopin(call)
    assert node_said(content, "text_about_klonopin") in spoken(twiml)
    assert twiml.find("Gather") is not None  # and the caller goes on
    queue = Queue(QUEUE_NAME, connection=redis_client)
    jobs = queue.get_jobs()
    assert len(jobs) == 1
    assert jobs[0].func_name == "workers.outbox.send_batch"
    raw = redis_client.hget(f"rq:job:{jobs[0].id}", "data") or b""
    assert b"2025550123" not in raw
    assert b"2025550123" not in repr(jobs[0].args).encode()


def test_text_me_twice_in_one_call_sends_once(call: CallFixture, redis_client: redis.Redis) -> None:
    _text_me_about_klonopin(call)
    call.press(call.press(call.start(), "4"), "1")
    assert len(Queue(QUEUE_NAME, connection=redis_client).get_jobs()) == 1


@pytest.mark.parametrize("caller", ["", "anonymous", "+266696687", "client:alice", "12345"])
def test_text_me_from_a_number_that_cannot_get_texts_says_so(
    twilio: TwilioSigner, content: Content, redis_client: redis.Redis, caller: str
) -> None:
    call = CallFixture(twilio, caller=caller)
    twiml = _text_me_about_klonopin(call)
    assert said(content, "text_unavailable") in spoken(twiml)
    assert twiml.find("Gather") is not None
    assert Queue(QUEUE_NAME, connection=redis_client).get_jobs() == []


def to_backup(call: CallFixture) -> ET.Element:
    """Nobody on call: the other choices, then 2 for the partner (backup) line."""
    return call.press(call.press(call.start(), "1"), "2")


def test_when_the_backup_line_does_not_answer_the_caller_can_leave_a_message(
    call: CallFixture, content: Content
) -> None:
    dial = to_backup(call)
    action = dial.find("Dial")
    assert action is not None
    twiml = call.post(action.attrib["action"], DialCallStatus="no-answer")
    assert said(content, "backup_unreachable") in spoken(twiml)
    # First whether and where to be called back (tests/test_callback_consent.py).
    assert node_said(content, "voicemail") in spoken(twiml)
    assert call.press(twiml, "3").find("Record") is not None


def test_a_finished_conversation_ends_the_call(call: CallFixture) -> None:
    dial = to_backup(call).find("Dial")
    assert dial is not None
    twiml = call.post(dial.attrib["action"], DialCallStatus="completed")
    assert [child.tag for child in twiml] == ["Hangup"]


def test_a_voicemail_is_kept_once_and_expires(
    call: CallFixture, content: Content, redis_client: redis.Redis
) -> None:
    dial = to_backup(call).find("Dial")
    assert dial is not None
    twiml = call.post(dial.attrib["action"], DialCallStatus="busy")
    record = call.press(twiml, "1").find("Record")  # called back at this number
    assert record is not None
    recording = {
        "RecordingSid": "RE" + "1" * 32,
        "RecordingDuration": "12",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE1",
    }
    after = call.post(record.attrib["action"], **recording)
    call.post(record.attrib["action"], **recording)  # Twilio retried the webhook
    assert after.find("Hangup") is not None
    assert redis_client.zcard(INDEX) == 1
    key = f"voicemail:{recording['RecordingSid']}"
    assert redis_client.hget(key, "duration") == b"12"
    assert 0 < redis_client.ttl(key) <= 30 * 86400


def test_a_silent_voicemail_still_says_goodbye(call: CallFixture) -> None:
    dial = to_backup(call).find("Dial")
    assert dial is not None
    twiml = call.press(call.post(dial.attrib["action"], DialCallStatus="no-answer"), "3")
    after_silence = call.post(redirect_url(twiml))
    assert after_silence.find("Hangup") is not None
