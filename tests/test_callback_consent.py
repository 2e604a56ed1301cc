"""Before a message, the caller says whether and where to be called back
(issue 18, item 10): phones are shared, and a call back can out a person. A
message becomes a callback only with that consent, at the number chosen, and
the consent is kept with the request and the message."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import redis
from rq import Queue

from ivr.callbacks.requests import OPEN, Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.content.model import Content
from ivr.jobs import ALERT_ON_CALL, QUEUE_NAME
from ivr.menu.state import CONSENT_AFTER_CALL_SECONDS
from ivr.platform.config import Settings
from ivr.platform.redis_store import decoded
from tests.twilio_signing import CallFixture, TwilioSigner, node_said, said, spoken

OTHER = "+12025550143"
WITHHELD = "+266696687"  # "ANONYMOUS" on a keypad: Twilio's placeholder


@pytest.fixture
def call(twilio: TwilioSigner) -> CallFixture:
    return CallFixture(twilio)


def asked(call: CallFixture) -> ET.Element:
    """Nobody on call: the other choices, then 1 to leave a message: asked first
    whether and where to be called back."""
    return call.press(call.press(call.start(), "1"), "1")


def leave_message(call: CallFixture, twiml: ET.Element, sid: str = "RE" + "7" * 32) -> str:
    record = twiml.find("Record")
    assert record is not None, ET.tostring(twiml)
    call.post(
        record.attrib["action"],
        RecordingSid=sid,
        RecordingDuration="9",
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
    )
    return sid


def leave_fallback_message(call: CallFixture, sid: str) -> None:
    """A message recorded on the fallback path (Redis was failing when it began)."""
    call.post(
        "/voice/fallback-recorded",
        RecordingSid=sid,
        RecordingDuration="9",
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
    )


def callbacks(client: redis.Redis, settings: Settings) -> list[dict[str, str]]:
    store = Callbacks(client, settings.secret_key, 86400)
    return [store.get(ref) for ref in store.open_references()]


def alerts(client: redis.Redis) -> int:
    jobs = Queue(QUEUE_NAME, connection=client).get_jobs()
    return len([j for j in jobs if j.func_name == ALERT_ON_CALL])


def to_be_heard(client: redis.Redis, sid: str) -> None:
    """A message nobody may call back is still someone's urgent work: hearing
    it (it may say "I took all my pills"), with an alert to the counselors on
    call; no callback request is made."""
    (item,) = UrgentItems(client, 86400).open_items()
    assert (item.kind, item.subject) == ("message", sid)
    assert item.reference.startswith("VM-")
    assert decoded(client.hgetall(f"voicemail:{sid}"))["urgent"] == item.reference
    (job,) = [j for j in Queue(QUEUE_NAME, connection=client).get_jobs()]
    assert job.func_name == ALERT_ON_CALL
    assert job.args[0] == "message_alert"


def test_the_caller_is_asked_before_the_message(call: CallFixture, content: Content) -> None:
    twiml = asked(call)
    assert twiml.find("Record") is None
    assert node_said(content, "voicemail") in spoken(twiml)


def test_this_number_is_called_back_with_that_consent(
    call: CallFixture, redis_client: redis.Redis, settings: Settings
) -> None:
    sid = leave_message(call, call.press(asked(call), "1"))
    (request,) = callbacks(redis_client, settings)
    assert (request["number"], request["consent"], request["source"]) == (
        call.caller,
        "caller_id",
        "voicemail",
    )
    assert decoded(redis_client.hgetall(f"voicemail:{sid}"))["consent"] == "caller_id"
    assert alerts(redis_client) == 1


def test_a_number_keyed_in_is_read_back_and_called_once_confirmed(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    ask = call.press(asked(call), "2")
    assert node_said(content, "callback_number") in spoken(ask)
    gather = ask.find("Gather")
    assert gather is not None
    assert gather.attrib["finishOnKey"] == "#"
    confirm = call.press(ask, "2025550143")
    assert "2 0 2, 5 5 5, 0 1 4 3" in spoken(confirm)
    assert callbacks(redis_client, settings) == []  # not before it is confirmed
    leave_message(call, call.press(confirm, "1"))
    (request,) = callbacks(redis_client, settings)
    assert (request["number"], request["consent"]) == (OTHER, "number")


def test_a_number_keyed_again_over_the_read_back_is_read_back_not_confirmed(
    call: CallFixture, redis_client: redis.Redis, settings: Settings
) -> None:
    """A caller who hears a wrong number often just keys it again: its first
    digit, a 1, must not confirm the wrong one (the read-back takes every key,
    not one)."""
    confirm = call.press(call.press(asked(call), "2"), "2025550134")  # a slip
    gather = confirm.find("Gather")
    assert gather is not None
    assert "numDigits" not in gather.attrib
    again = call.press(confirm, "12025550143")
    assert "2 0 2, 5 5 5, 0 1 4 3" in spoken(again)
    assert callbacks(redis_client, settings) == []
    leave_message(call, call.press(again, "1"))
    (request,) = callbacks(redis_client, settings)
    assert request["number"] == OTHER


def test_a_number_said_aloud_is_understood(call: CallFixture, redis_client: redis.Redis) -> None:
    confirm = call.say(call.press(asked(call), "2"), "my number is 202 555 0143")
    assert "2 0 2, 5 5 5, 0 1 4 3" in spoken(confirm)
    message = call.say(confirm, "yes")
    assert message.find("Record") is not None


def test_a_wrong_reading_asks_for_the_number_again(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    confirm = call.press(call.press(asked(call), "2"), "2025550143")
    again = call.press(confirm, "2")
    assert node_said(content, "callback_number") in spoken(again)
    confirm = call.press(again, "2025550188")
    leave_message(call, call.press(confirm, "1"))
    (request,) = callbacks(redis_client, settings)
    assert request["number"] == "+12025550188"


def test_no_call_back_means_none_and_the_message_is_still_kept(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    message = call.press(asked(call), "3")
    assert node_said(content, "callback_none") in spoken(message)
    sid = leave_message(call, message)
    assert callbacks(redis_client, settings) == []
    assert redis_client.zcard(OPEN) == 0
    to_be_heard(redis_client, sid)
    assert decoded(redis_client.hgetall(f"voicemail:{sid}"))["consent"] == "none"


def test_a_withheld_caller_asking_for_this_number_is_asked_for_one(
    twilio: TwilioSigner, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    call = CallFixture(twilio, caller=WITHHELD)
    ask = call.press(asked(call), "1")
    assert said(content, "callback_withheld") in spoken(ask)
    assert node_said(content, "callback_number") in spoken(ask)
    leave_message(call, call.press(call.press(ask, "2025550143"), "1"))
    (request,) = callbacks(redis_client, settings)
    assert (request["number"], request["consent"]) == (OTHER, "number")


@pytest.mark.parametrize("typed", ["12", "5551234", "266696687", "9999999999"])
def test_a_number_the_line_cannot_call_is_asked_again(
    call: CallFixture, content: Content, typed: str
) -> None:
    again = call.press(call.press(asked(call), "2"), typed)
    assert said(content, "callback_unclear") in spoken(again)
    assert node_said(content, "callback_number") in spoken(again)


def test_no_usable_number_after_the_tries_is_a_message_with_no_call_back(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    twiml = call.press(asked(call), "2")
    for _ in range(content.navigation.tries):
        twiml = call.press(twiml, "12")
    assert said(content, "callback_none") in spoken(twiml)
    sid = leave_message(call, twiml)
    assert callbacks(redis_client, settings) == []
    to_be_heard(redis_client, sid)


def test_crisis_words_while_giving_a_number_bring_911_and_988(
    call: CallFixture, content: Content
) -> None:
    twiml = call.say(call.press(asked(call), "2"), "i took all my pills i want to die")
    assert said(content, "crisis_heard") in spoken(twiml)


def test_a_message_on_the_fallback_path_is_never_called_back_unasked(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    """With Redis failing there was no consent step: the message asks the caller
    to say a number, and the line never calls the one the call came from."""
    twiml = call.post("/voice/fallback-done", DialCallStatus="no-answer")
    assert said(content, "fallback_message") in spoken(twiml)
    sid = "RE" + "8" * 32
    leave_fallback_message(call, sid)
    assert decoded(redis_client.hgetall(f"voicemail:{sid}"))["consent"] == "not asked"
    assert callbacks(redis_client, settings) == []
    to_be_heard(redis_client, sid)


def test_spanish_callers_are_asked_in_spanish(call: CallFixture, content: Content) -> None:
    menu = call.press(call.start(), "9")
    ask = call.press(call.press(menu, "1"), "1")
    assert node_said(content, "voicemail", "es") in spoken(ask)
    confirm = call.press(call.press(ask, "2"), "2025550143")
    assert "Le devolveremos la llamada al 2 0 2, 5 5 5, 0 1 4 3" in spoken(confirm)


@pytest.mark.parametrize(
    "refusal",
    [
        "do not call this number",
        "not at this number",
        "never call this number",
        "don't use this number",
        "al mismo número no",
    ],
)
def test_words_that_refuse_this_number_never_consent_to_it(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, refusal: str
) -> None:
    call.say(asked(call), refusal)
    # Asked again, asked for a number, or no call back: never "call me back here".
    assert redis_client.get(f"call:{call.sid}:callback") in (None, b"none\t")


@pytest.mark.parametrize(
    "doubt", ["that isn't right", "no that's not the right number", "not quite right"]
)
def test_a_doubtful_answer_to_the_read_back_number_does_not_confirm_it(
    call: CallFixture, content: Content, doubt: str
) -> None:
    confirm = call.press(call.press(asked(call), "2"), "2025550143")
    again = call.say(confirm, doubt)
    assert again.find("Record") is None
    assert "2 0 2, 5 5 5, 0 1 4 3" in spoken(again) or node_said(
        content, "callback_number"
    ) in spoken(again)


@pytest.mark.parametrize(
    "costly", ["19005550199", "18885550100", "18765550123", "+88212345678", "+442079460000"]
)
def test_a_premium_toll_free_or_foreign_number_is_never_taken(
    call: CallFixture, content: Content, costly: str
) -> None:
    """Toll fraud: the line dials no number taken from input that could cost money."""
    again = call.press(call.press(asked(call), "2"), costly)
    assert said(content, "callback_unclear") in spoken(again)


def test_a_caller_who_cannot_choose_leaves_a_message_with_no_call_back(
    call: CallFixture, redis_client: redis.Redis, settings: Settings, content: Content
) -> None:
    """Not the partner line: when it does not answer, it leads back here."""
    twiml = asked(call)
    for _ in range(content.navigation.tries):
        twiml = call.press(twiml, "7")
    assert node_said(content, "callback_none") in spoken(twiml)
    leave_message(call, twiml)
    assert callbacks(redis_client, settings) == []


def test_a_fallback_message_ignores_a_consent_given_earlier_in_the_call(
    call: CallFixture, redis_client: redis.Redis, settings: Settings
) -> None:
    call.press(asked(call), "1")  # "call me back here", then something failed
    sid = "RE" + "9" * 32
    leave_fallback_message(call, sid)
    assert decoded(redis_client.hgetall(f"voicemail:{sid}"))["consent"] == "not asked"
    assert callbacks(redis_client, settings) == []


def test_the_number_given_is_kept_only_minutes_after_the_call_ends(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    call.press(call.press(call.press(asked(call), "2"), "2025550143"), "1")
    key = f"call:{call.sid}:callback"
    assert redis_client.ttl(key) > CONSENT_AFTER_CALL_SECONDS  # the call state's hours
    ended = call.twilio.post("/voice/status", call.params(CallStatus="completed"))
    assert ended.status_code == 204
    assert 0 < redis_client.ttl(key) <= CONSENT_AFTER_CALL_SECONDS
