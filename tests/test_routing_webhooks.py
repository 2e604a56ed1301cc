"""The hold, whisper and bridge webhooks as Twilio calls them, and the
dispatch state machine under them: one bridge, a bounded hold, no dead end."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

import pytest
import redis
from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.contacts.records import Contacts
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import Settings
from ivr.routing.dispatches import Dispatches
from ivr.routing.figures import DayFigures, Figures, day_of
from tests.conftest import RedisServer
from tests.rosters import store_always_on_call
from tests.twilio_signing import (
    CallFixture,
    TwilioSigner,
    gather_action,
    new_call_sid,
    redirect_url,
    spoken,
)


@pytest.fixture
def call(twilio: TwilioSigner, redis_client: redis.Redis) -> CallFixture:
    store_always_on_call(redis_client)
    return CallFixture(twilio)


def hold_for_counselor(call: CallFixture) -> ET.Element:
    twiml = call.press(call.start(), "1")
    assert twiml.find("Enqueue") is not None
    return twiml


def today(client: redis.Redis, settings: Settings) -> DayFigures:
    """The line's figures for its day now: a local date in its own zone."""
    return Figures(client, settings.timezone).day(day_of(zone_name=settings.timezone))


def dispatch_of(twiml: ET.Element) -> str:
    enqueue = twiml.find("Enqueue")
    assert enqueue is not None
    return enqueue.attrib["waitUrl"].rsplit("/", 1)[-1]


def leave_voicemail(call: CallFixture, sid: str) -> None:
    """Nobody on call: the caller takes the voicemail choice and leaves a message."""
    menu = call.press(call.start(), "1")  # nobody on call: the other choices
    consent = call.press(menu, "1")  # a message: whether and where to be called back
    record = call.press(consent, "1").find("Record")  # at this number
    assert record is not None
    call.post(
        record.attrib["action"],
        RecordingSid=sid,
        RecordingDuration="20",
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
    )


def jobs(client: redis.Redis, name: str) -> list[tuple[object, ...]]:
    return [
        tuple(j.args)
        for j in Queue(QUEUE_NAME, connection=client).get_jobs()
        if j.func_name == name
    ]


def test_holding_queues_one_ring_job_and_counts_the_offer(
    call: CallFixture, redis_client: redis.Redis, settings: Settings
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    assert jobs(redis_client, "workers.dispatch.ring") == [(dispatch_id,)]
    assert today(redis_client, settings).offered == 1


def test_a_repeated_webhook_does_not_open_a_second_dispatch(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    menu = call.start()
    first = call.press(menu, "1")
    again = call.press(menu, "1")
    assert dispatch_of(first) == dispatch_of(again)
    assert len(jobs(redis_client, "workers.dispatch.ring")) == 1


def test_the_hold_loop_reassures_with_the_crisis_numbers(call: CallFixture) -> None:
    twiml = hold_for_counselor(call)
    url = twiml.find("Enqueue").attrib["waitUrl"]  # type: ignore[union-attr]
    early = call.post(url, QueueTime="3")
    assert "9 8 8" not in spoken(early)  # they just heard where they are
    later = call.post(url, QueueTime="45")
    assert "9 1 1" in spoken(later)
    assert "9 8 8" in spoken(later)


def test_the_hold_loop_ends_the_wait_at_the_longest_hold(
    call: CallFixture, redis_client: redis.Redis, content: Content, settings: Settings
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    redis_client.hset(f"dispatch:{dispatch_id}", "created", 0)  # waiting since long ago
    out = call.post(twiml.find("Enqueue").attrib["waitUrl"], QueueTime="200")  # type: ignore[union-attr]
    assert [v.tag for v in out] == ["Leave"]
    after = call.post(twiml.find("Enqueue").attrib["action"], QueueResult="leave")  # type: ignore[union-attr]
    assert gather_action(after).endswith("/voice/menu/no_counselor")
    assert today(redis_client, settings).unanswered == 1


def taken_by_alex(client: redis.Redis, dispatch_id: str) -> Dispatches:
    """A counselor pressed 1 for the caller: the dispatch is bridged, their
    <Dial><Queue> not yet at the caller."""
    dispatches = Dispatches(client, 3600)
    leg_id = dispatches.add_leg(dispatch_id, "alex", 1)
    assert leg_id
    assert dispatches.claim(dispatch_id, leg_id) == "won"
    return dispatches


def test_a_hold_round_ending_as_a_counselor_is_connected_keeps_the_caller_queued(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    """Between a counselor's press and their <Dial><Queue> reaching the
    caller, the caller's hold round may end and fetch the waitUrl: it must
    keep them in the queue for the bridge, not <Leave/> into "nobody could
    answer". A bridge that never comes lets them go on after the grace."""
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    wait_url = twiml.find("Enqueue").attrib["waitUrl"]  # type: ignore[union-attr]
    taken_by_alex(redis_client, dispatch_id)
    kept = call.post(wait_url, QueueTime="30")
    assert [v.tag for v in kept] == ["Pause"]
    redis_client.hset(f"dispatch:{dispatch_id}", "answered_at", time.time() - 21)
    assert [v.tag for v in call.post(wait_url, QueueTime="51")] == ["Leave"]
    # Let go, the caller goes on to the other choices, and the contact is
    # recorded as nobody answering (not lost between "taken" and "talked").
    after = call.post(twiml.find("Enqueue").attrib["action"], QueueResult="leave")  # type: ignore[union-attr]
    assert gather_action(after).endswith("/voice/menu/no_counselor")
    (contact,) = Contacts(redis_client, 3600).between(0, 2**40)
    assert (contact.outcome, contact.counselor, contact.detail) == ("unanswered", "", dispatch_id)


def test_a_bridge_whose_counselor_call_already_ended_lets_the_caller_go_at_once(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    dispatches = taken_by_alex(redis_client, dispatch_id)
    dispatches.conversation_over(dispatch_id, "alex")  # their <Dial> ended: no bridge
    wait_url = twiml.find("Enqueue").attrib["waitUrl"]  # type: ignore[union-attr]
    assert [v.tag for v in call.post(wait_url, QueueTime="30")] == ["Leave"]


def test_a_caller_who_hangs_up_while_being_connected_is_an_abandoned_contact(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    taken_by_alex(redis_client, dispatch_id)
    action = twiml.find("Enqueue").attrib["action"]  # type: ignore[union-attr]
    assert [v.tag for v in call.post(action, QueueResult="hangup")] == ["Hangup"]
    call.post(action, QueueResult="hangup")  # Twilio's retry: still one contact
    (contact,) = Contacts(redis_client, 3600).between(0, 2**40)
    assert (contact.outcome, contact.detail) == ("abandoned", dispatch_id)


def test_a_call_never_bridged_is_neither_answered_in_the_figures_nor_the_log(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis, settings: Settings
) -> None:
    """The press counts a call answered at once (the Now board's tile); when
    the caller hangs up while being connected, that is taken back, and the
    counselor's <Dial> ending "completed" afterwards (no DialBridged, as a
    Twilio without it might send) does not make the contact answered."""
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")
    answer(twilio, dispatch_id, leg, "1")
    assert (today(redis_client, settings).answered, today(redis_client, settings).answered_by) == (
        1, {"alex": 1},
    )  # fmt: skip
    call.post(twiml.find("Enqueue").attrib["action"], QueueResult="hangup")  # type: ignore[union-attr]
    counselor = CallFixture(twilio, caller="+18885550100")
    counselor.post(f"/voice/counselor-done/{dispatch_id}/{leg}", DialCallStatus="completed")
    figures = today(redis_client, settings)
    assert (figures.answered, figures.abandoned, figures.answered_by) == (0, 1, {})
    (contact,) = Contacts(redis_client, 3600).between(0, 2**40)
    assert (contact.outcome, contact.counselor) == ("abandoned", "")
    assert Contacts(redis_client, 3600).wrapups_due("alex") == []


def test_a_talk_is_recorded_by_the_callers_side_if_the_counselors_never_comes(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")
    answer(twilio, dispatch_id, leg, "1")
    action = twiml.find("Enqueue").attrib["action"]  # type: ignore[union-attr]
    assert [v.tag for v in call.post(action, QueueResult="bridged")] == ["Hangup"]
    (contact,) = Contacts(redis_client, 3600).between(0, 2**40)
    assert (contact.outcome, contact.counselor, contact.detail) == ("answered", "alex", dispatch_id)
    # Then the counselor's action after all, bridged: still the one contact.
    counselor = CallFixture(twilio, caller="+18885550100")
    counselor.post(
        f"/voice/counselor-done/{dispatch_id}/{leg}", DialCallStatus="completed", DialBridged="true"
    )
    assert [c.outcome for c in Contacts(redis_client, 3600).between(0, 2**40)] == ["answered"]


def test_pressing_1_while_waiting_leaves_a_message_instead(
    call: CallFixture, content: Content
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    left = call.post(f"/voice/hold-choice/{dispatch_id}", Digits="1")
    assert [v.tag for v in left] == ["Leave"]
    after = call.post(twiml.find("Enqueue").attrib["action"], QueueResult="leave")  # type: ignore[union-attr]
    # Asked first whether and where to be called back; then the message.
    assert call.press(after, "1").find("Record") is not None


def test_a_caller_who_hangs_up_while_waiting_is_counted_and_legs_are_stopped(
    call: CallFixture, redis_client: redis.Redis, settings: Settings
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    call.post(twiml.find("Enqueue").attrib["action"], QueueResult="hangup")  # type: ignore[union-attr]
    assert Dispatches(redis_client, 60).load(dispatch_id).state == "abandoned"  # type: ignore[union-attr]
    assert jobs(redis_client, "workers.dispatch.cancel_legs") == [(dispatch_id, "")]
    assert today(redis_client, settings).abandoned == 1


def ring_legs(client: redis.Redis, dispatch_id: str, *counselors: str) -> list[str]:
    """What the ring job does before Twilio answers: one leg per counselor."""
    dispatches = Dispatches(client, 3600)
    legs = [
        dispatches.add_leg(dispatch_id, counselor, 1, first=n == 0)
        for n, counselor in enumerate(counselors)
    ]
    assert None not in legs
    return [leg for leg in legs if leg is not None]


def whisper(twilio: TwilioSigner, dispatch_id: str, leg: str) -> ET.Element:
    counselor = CallFixture(twilio, caller="+18885550100")
    return counselor.post(f"/voice/whisper/{dispatch_id}/{leg}")


def answer(twilio: TwilioSigner, dispatch_id: str, leg: str, digits: str) -> ET.Element:
    counselor = CallFixture(twilio, caller="+18885550100")
    return counselor.post(f"/voice/whisper-answer/{dispatch_id}/{leg}", Digits=digits)


def test_the_whisper_says_the_language_and_the_wait_and_only_a_key_accepts(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    dispatch_id = dispatch_of(call.press(call.press(call.start(), "9"), "1"))  # a Spanish caller
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")  # alex speaks English only
    heard = whisper(twilio, dispatch_id, leg)
    text = spoken(heard)
    assert "in Spanish" in text  # the caller's language, named in alex's
    assert "Press 1 to accept" in text  # said to alex in English
    assert heard.find("Gather") is not None
    silent = call.post(heard.find("Redirect").text or "")  # type: ignore[union-attr]
    assert [v.tag for v in silent] == ["Hangup"]  # a voicemail box picked up: not accepted
    assert Dispatches(redis_client, 60).load(dispatch_id).state == "ringing"  # type: ignore[union-attr]
    assert jobs(redis_client, "workers.dispatch.ring")[-1] == (dispatch_id,)  # the next one


def test_accepting_bridges_to_the_callers_queue_and_stops_the_others(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis, settings: Settings
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    first, second = ring_legs(redis_client, dispatch_id, "alex", "blanca")
    accepted = answer(twilio, dispatch_id, first, "1")
    queue = accepted.find("Dial/Queue")
    assert queue is not None
    assert queue.text == f"d{dispatch_id}"
    assert jobs(redis_client, "workers.dispatch.cancel_legs") == [(dispatch_id, first)]
    late = answer(twilio, dispatch_id, second, "1")
    assert "Another counselor took this call" in spoken(late)
    assert late.find("Dial") is None
    assert today(redis_client, settings).answered == 1


def test_two_counselors_pressing_1_together_make_exactly_one_bridge(
    call: CallFixture, redis_client: redis.Redis, redis_server: RedisServer
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    legs = ring_legs(redis_client, dispatch_id, *[f"c{n}" for n in range(8)])
    results: list[str] = []
    barrier = threading.Barrier(len(legs))

    def press_one(leg: str) -> None:
        own = Dispatches(redis.Redis.from_url(redis_server.url), 60)  # its own connection
        barrier.wait()
        results.append(own.claim(dispatch_id, leg))

    threads = [threading.Thread(target=press_one, args=(leg,)) for leg in legs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("won") == 1
    assert set(results) - {"won"} == {"bridged"}


def test_a_counselor_who_answers_after_the_caller_left_hears_so(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    twiml = hold_for_counselor(call)
    dispatch_id = dispatch_of(twiml)
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")
    call.post(twiml.find("Enqueue").attrib["action"], QueueResult="hangup")  # type: ignore[union-attr]
    assert "The caller has left" in spoken(whisper(twilio, dispatch_id, leg))


def test_late_and_repeated_status_callbacks_change_nothing(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    first, second = ring_legs(redis_client, dispatch_id, "alex", "blanca")
    answer(twilio, dispatch_id, first, "1")
    counselor = CallFixture(twilio, caller="+18885550100")
    before = len(jobs(redis_client, "workers.dispatch.ring"))
    for _ in range(2):
        response = twilio.post(
            f"/voice/leg-status/{dispatch_id}/{second}", counselor.params(CallStatus="no-answer")
        )
        assert response.status_code == 204
    assert len(jobs(redis_client, "workers.dispatch.ring")) == before  # bridged: nobody rung
    state = Dispatches(redis_client, 60).load(dispatch_id)
    assert state is not None
    assert state.state == "bridged"
    assert state.winner == first


def test_a_counselor_on_a_helpline_call_is_busy_until_it_ends(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")
    answer(twilio, dispatch_id, leg, "1")
    dispatches = Dispatches(redis_client, 60)
    assert dispatches.busy_counselors() == {"alex"}
    counselor = CallFixture(twilio, caller="+18885550100")
    counselor.post(f"/voice/counselor-done/{dispatch_id}/{leg}", DialCallStatus="completed")
    # The conversation is over, but alex's phone is still hanging up: a ring now
    # would meet it busy and use up a ring round of the next caller's.
    assert dispatches.busy_counselors() == {"alex"}
    ended = twilio.post(
        f"/voice/leg-status/{dispatch_id}/{leg}", counselor.params(CallStatus="completed")
    )
    assert ended.status_code == 204
    assert dispatches.busy_counselors() == set()


def test_a_voicemail_becomes_a_callback_request_and_an_alert(
    twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    call = CallFixture(twilio)
    leave_voicemail(call, "RE" + "9" * 32)
    (alert,) = jobs(redis_client, "workers.alerts.alert_on_call")
    assert alert[0] == "callback_alert"
    record_of = Callbacks(redis_client, "k", 60).get(str(alert[1]))
    assert record_of["source"] == "voicemail"
    assert record_of["number"] == call.caller


@pytest.mark.parametrize(
    "withheld",
    ["+266696687", "+7378742833", "+17378742833", "+86282452253", "Anonymous", "RESTRICTED"],
)
def test_a_voicemail_from_a_withheld_caller_id_is_kept_but_never_called_back(
    twilio: TwilioSigner, redis_client: redis.Redis, withheld: str
) -> None:
    """Twilio's placeholders for a withheld caller (the word, or the word on a
    keypad, even behind a country code: +17378742833 is a real Austin number)
    must never become a call or a text to whoever owns that number."""
    call = CallFixture(twilio, caller=withheld)
    consent = call.press(call.press(call.start(), "1"), "1")  # a message, then...
    twiml = call.press(consent, "1")  # ...call me back here: there is no "here"
    assert twiml.find("Record") is None  # asked for a number instead
    for _ in range(3):
        if twiml.find("Record") is not None:
            break
        twiml = call.post(redirect_url(twiml))  # no number given
    record = twiml.find("Record")
    assert record is not None
    sid = "RE" + "8" * 32
    call.post(
        record.attrib["action"],
        RecordingSid=sid,
        RecordingDuration="20",
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
    )
    assert redis_client.exists("voicemail:RE" + "8" * 32)  # the message is kept
    # ...and someone is told to hear it, by a reference that leads to no number.
    (alert,) = jobs(redis_client, "workers.alerts.alert_on_call")
    assert alert[0] == "message_alert"
    assert str(alert[1]).startswith("VM-")
    assert Callbacks(redis_client, "k", 60).open_references() == []


def test_keypad_spellings_of_a_withheld_caller_are_known_and_real_numbers_are_not() -> None:
    from ivr.callers.caller_id import is_withheld, may_call_back

    for placeholder in ("+266696687", "+17378742833", "+86282452253", "Anonymous", ""):
        assert is_withheld(placeholder)
        assert not may_call_back(placeholder)
    for number in ("+12025550188", "+34915550108", "+17378742834"):
        assert not is_withheld(number)
        assert may_call_back(number)


def test_returning_a_call_dials_only_the_number_on_the_request(
    twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    reference = Callbacks(redis_client, "k", 3600).create("+12025550177", "en", "voicemail")
    counselor = CallFixture(twilio, caller="+18885550100")
    whisper_twiml = counselor.post(f"/voice/callback-whisper/{reference}")
    assert reference in spoken(whisper_twiml)
    dialing = counselor.post(
        f"/voice/callback-answer/{reference}", Digits="1", To="+19995550000"
    )  # fields from outside never choose the number
    assert [(n.text or "").strip() for n in dialing.iter("Number")] == ["+12025550177"]
    dial = dialing.find("Dial")
    assert dial is not None
    counselor.post(dial.attrib["action"], DialCallStatus="no-answer")
    assert Callbacks(redis_client, "k", 60).get(reference)["status"] == "open"
    # Answered: by the person, or by their voicemail — the counselor says which.
    asked = counselor.post(dial.attrib["action"], DialCallStatus="completed")
    assert Callbacks(redis_client, "k", 60).get(reference)["status"] == "open"
    counselor.post(gather_action(asked), Digits="2")  # a voicemail box answered
    assert Callbacks(redis_client, "k", 60).get(reference)["status"] == "open"
    counselor.post(gather_action(asked), Digits="1")
    assert Callbacks(redis_client, "k", 60).get(reference)["status"] == "done"


def test_metrics_expose_the_figures(
    call: CallFixture, twilio: TwilioSigner, settings: Settings
) -> None:
    hold_for_counselor(call)
    text = twilio.client.get("/metrics").get_data(as_text=True)
    assert f'helpline_calls_offered{{day="{day_of(zone_name=settings.timezone)}"}} 1.0' in text
    assert "+1202" not in text


def test_a_caller_redirected_from_the_queue_is_answered_with_their_next_step_not_silence(
    call: CallFixture, redis_client: redis.Redis
) -> None:
    """If Twilio acts on the Enqueue action's answer after a REST redirect (its
    docs do not say it ignores it), the caller gets what /after-hold gives:
    never an empty document, which hangs up (issue 18, item 2)."""
    dispatch_id = dispatch_of(hold_for_counselor(call))
    Dispatches(redis_client, 3600).finish(dispatch_id, "gave_up")  # as the worker does
    redirected = call.post(f"/voice/queue-done/{dispatch_id}", QueueResult="redirected")
    after_hold = call.post(f"/voice/after-hold/{dispatch_id}")
    assert len(redirected) > 0
    assert ET.tostring(redirected) == ET.tostring(after_hold)


def test_an_unknown_dispatch_never_strands_anyone(twilio: TwilioSigner) -> None:
    caller = CallFixture(twilio)
    assert [v.tag for v in caller.post("/voice/hold/nope", QueueTime="5")] == ["Leave"]
    greeting = caller.post("/voice/queue-done/nope", QueueResult="leave")
    assert greeting.find("Gather") is not None
    counselor = CallFixture(twilio, caller="+18885550100")
    assert counselor.post(f"/voice/whisper/nope/{new_call_sid()}").find("Hangup") is not None


def test_a_caller_who_hangs_up_before_the_queue_is_not_rung_for(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis, settings: Settings
) -> None:
    """No queue callback comes when the caller never joined the queue; the
    call's own status callback must end the wait (and the live list)."""
    dispatch_id = dispatch_of(hold_for_counselor(call))
    assert [d.id for d in Dispatches(redis_client, 60).live()] == [dispatch_id]
    response = twilio.post("/voice/status", call.params(CallStatus="completed"))
    assert response.status_code == 204
    assert Dispatches(redis_client, 60).load(dispatch_id).state == "abandoned"  # type: ignore[union-attr]
    assert jobs(redis_client, "workers.dispatch.cancel_legs") == [(dispatch_id, "")]
    assert Dispatches(redis_client, 60).live() == []
    twilio.post("/voice/status", call.params(CallStatus="completed"))  # repeated: no change
    assert today(redis_client, settings).abandoned == 1


def test_a_conversation_leaves_the_live_list_when_it_ends(
    call: CallFixture, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    dispatch_id = dispatch_of(hold_for_counselor(call))
    (leg,) = ring_legs(redis_client, dispatch_id, "alex")
    answer(twilio, dispatch_id, leg, "1")
    dispatches = Dispatches(redis_client, 60)
    assert [(d.id, d.state) for d in dispatches.live()] == [(dispatch_id, "bridged")]
    twilio.post("/voice/status", call.params(CallStatus="completed"))  # bridged: not abandoned
    assert dispatches.load(dispatch_id).state == "bridged"  # type: ignore[union-attr]
    counselor = CallFixture(twilio, caller="+18885550100")
    ended = twilio.post(
        f"/voice/leg-status/{dispatch_id}/{leg}", counselor.params(CallStatus="completed")
    )
    assert ended.status_code == 204
    assert dispatches.live() == []
    assert dispatches.busy_counselors() == set()
