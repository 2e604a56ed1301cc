"""Each language is spoken by its own voice: the main menu's offer of the
other language is said by that language's voice, inside the menu's <Gather>
(a key pressed during it counts), and the whisper names the caller's language
in the counselor's own language (issue 18, item 3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import redis

from ivr.content.model import Content
from ivr.routing.dispatches import Dispatches
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from tests.twilio_signing import CallFixture, TwilioSigner, gather_action, node_said, spoken

OTHER = {"en": "es", "es": "en"}


def main_menu(call: CallFixture, language: str) -> ET.Element:
    """The main menu in LANGUAGE: key 9 switches an English call to Spanish."""
    twiml = call.start()
    return call.press(twiml, "9") if language == "es" else twiml


def says_in_gather(twiml: ET.Element) -> list[ET.Element]:
    gather = twiml.find("Gather")
    assert gather is not None, ET.tostring(twiml)
    return list(gather.iter("Say"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_other_languages_offer_is_said_by_its_own_voice_inside_the_gather(
    twilio: TwilioSigner, content: Content, language: str
) -> None:
    call = CallFixture(twilio)
    twiml = main_menu(call, language)
    own, other = content.locales[language], content.locales[OTHER[language]]
    says = says_in_gather(twiml)
    offers = [s for s in says if s.get("language") == other.say_language]
    assert len(offers) == 1, ET.tostring(twiml)
    assert offers[0].get("voice") == other.say_voice
    # What the offer says names the other language in that language.
    assert other.names[OTHER[language]].lower() in (offers[0].text or "").lower()
    # Everything else is said in the caller's language, by the caller's voice.
    rest = [s for s in says if s is not offers[0]]
    assert rest
    assert {(s.get("voice"), s.get("language")) for s in rest} == {
        (own.say_voice, own.say_language)
    }
    # Speech is still heard in the caller's language; a 9 during the offer counts.
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.get("language") == own.speech_language
    after = call.press(twiml, "9")
    assert gather_action(after).endswith("/voice/menu/main")
    assert {s.get("language") for s in says_in_gather(after)} >= {other.say_language}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_offer_comes_before_the_menus_choices(
    twilio: TwilioSigner, content: Content, language: str
) -> None:
    """A caller of the other language hears their way out before the choices."""
    says = says_in_gather(main_menu(CallFixture(twilio), language))
    texts = [s.text or "" for s in says]
    offer = [s.get("language") for s in says].index(content.locales[OTHER[language]].say_language)
    assert offer < texts.index(node_said(content, "main", language))


@pytest.mark.parametrize(("language", "said"), [("en", "nueve"), ("es", "nine")])
def test_the_offers_key_said_in_the_offers_language_switches(
    twilio: TwilioSigner, content: Content, language: str, said: str
) -> None:
    """The offer is heard in the other language: its key may be answered in it."""
    call = CallFixture(twilio)
    switched = call.say(main_menu(call, language), said)
    gather = switched.find("Gather")
    assert gather is not None
    assert gather.get("language") == content.locales[OTHER[language]].speech_language


def ring_legs(client: redis.Redis, dispatch_id: str, counselor: str) -> str:
    """What the ring job does before Twilio answers: a leg for the counselor."""
    leg = Dispatches(client, 3600).add_leg(dispatch_id, counselor, 1, first=True)
    assert leg is not None
    return leg


def whisper_to(
    twilio: TwilioSigner, redis_client: redis.Redis, caller_language: str, counselor: str
) -> str:
    call = CallFixture(twilio)
    held = call.press(main_menu(call, caller_language), "1")
    enqueue = held.find("Enqueue")
    assert enqueue is not None, ET.tostring(held)
    dispatch_id = enqueue.attrib["waitUrl"].rsplit("/", 1)[-1]
    leg = ring_legs(redis_client, dispatch_id, counselor)
    phone = CallFixture(twilio, caller="+18885550100")
    return spoken(phone.post(f"/voice/whisper/{dispatch_id}/{leg}"))


@pytest.mark.parametrize(
    ("caller", "counselor", "heard", "not_heard"),
    [
        ("es", "alex", "in Spanish", "Español"),  # alex speaks English only
        ("en", "lucia", "en inglés", "English"),  # lucía speaks Spanish only
        ("es", "lucia", "en español", "Spanish"),
        ("en", "alex", "in English", "inglés"),
    ],
)
def test_the_whisper_names_the_callers_language_in_the_counselors(
    twilio: TwilioSigner,
    redis_client: redis.Redis,
    caller: str,
    counselor: str,
    heard: str,
    not_heard: str,
) -> None:
    store_always_on_call(
        redis_client, ("alex", COUNSELOR_A, ["en"]), ("lucia", COUNSELOR_B, ["es"])
    )
    text = whisper_to(twilio, redis_client, caller, counselor)
    assert heard in text
    assert not_heard not in text
