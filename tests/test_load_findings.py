"""Regression tests for what `make loadtest` found (docs/reliability.md, "Load")."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pytest
import redis
from rq import Queue

from ivr.jobs import QUEUE_NAME
from ivr.routing import dispatches as dispatches_module
from ivr.routing.dispatches import COUNSELOR_TAKEN, Dispatches
from tests.live import LiveLine, WorkerProcess, eventually
from tests.rosters import COUNSELOR_A, store_always_on_call
from tests.twilio_signing import CallFixture, TwilioSigner
from twilio_emulator import press, talk
from twilio_emulator.messaging import NETWORK_START, NETWORK_STOP

TEXTER = "+12025550167"
CALLERS = ("+12025550171", "+12025550172")


def test_a_stop_confirmation_still_queued_at_start_is_never_sent(live_line: LiveLine) -> None:
    """Under load the STOP's confirmation waited behind other jobs until the
    texter had sent START: they got "no more messages" after "messages are
    back on". Only the confirmations of the toll-free carrier, which answers
    STOP and START itself (the line then sends none), may go out."""
    live_line.network.text_line(TEXTER, "STOP")
    live_line.network.text_line(TEXTER, "START")
    live_line.run_jobs()
    assert [m.body for m in live_line.network.sent_messages(to=TEXTER)] == [
        NETWORK_STOP,
        NETWORK_START.format(word="Start"),
    ]


def test_a_counselor_rung_for_one_caller_is_not_rung_for_another(
    redis_client: redis.Redis,
) -> None:
    dispatches = Dispatches(redis_client, 600)
    first, _ = dispatches.open_for_call("CA" + "1" * 32, CALLERS[0], "en", "counselor")
    second, _ = dispatches.open_for_call("CA" + "2" * 32, CALLERS[1], "en", "counselor")
    leg = dispatches.add_leg(first.id, "alex", 1)
    assert leg
    assert dispatches.add_leg(second.id, "alex", 1) == COUNSELOR_TAKEN
    assert dispatches.engaged_counselors() == {"alex"}
    assert dispatches.claim(first.id, leg) == "won"  # now on the call: still taken
    assert dispatches.add_leg(second.id, "alex", 1) == COUNSELOR_TAKEN
    dispatches.conversation_over(first.id, "alex")
    assert dispatches.engaged_counselors() == set()
    assert dispatches.add_leg(second.id, "alex", 1)


def test_a_counselor_who_declines_is_free_for_the_next_caller(redis_client: redis.Redis) -> None:
    dispatches = Dispatches(redis_client, 600)
    first, _ = dispatches.open_for_call("CA" + "3" * 32, CALLERS[0], "en", "counselor")
    second, _ = dispatches.open_for_call("CA" + "4" * 32, CALLERS[1], "en", "counselor")
    leg = dispatches.add_leg(first.id, "alex", 1)
    assert leg
    dispatches.end_leg(first.id, leg, "declined")
    assert dispatches.add_leg(second.id, "alex", 1)


def test_two_callers_and_one_counselor_both_reach_them_in_turn(
    live_line: LiveLine, start_worker: Callable[..., WorkerProcess]
) -> None:
    """Under load every waiting caller's ring went to the same first counselor:
    a person's phone meets the second with busy, the rounds ran out in a
    moment, and callers went to voicemail while counselors were seconds from
    free. The second caller now waits for the counselor instead."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    # The line used to free alex when the first conversation's <Dial> ended, a
    # moment before the phone hung up: a ring in that moment met busy and used a
    # round (once both). Alex is now engaged until their own call has ended.
    start_worker()
    network = live_line.network
    network.phone(COUNSELOR_A, press("1"), talk(1), ring_seconds=0.3, single_line=True)
    calls = [network.call_line(number, press("1")) for number in CALLERS]
    for call in calls:
        network.wait_for_call(call.sid, timeout=40)
    bridged = [
        [h["text"] for h in network.calls[call.sid].heard if h["kind"] == "bridged"]
        for call in calls
    ]
    assert bridged == [[COUNSELOR_A], [COUNSELOR_A]]
    # The counselor's leg ends a moment after the caller's call: its own status
    # comes on its own (a fresh clone read 1 of 2 here once, 2026-12-07).
    eventually(
        lambda: len([c for c in network.calls.values() if c.to == COUNSELOR_A and c.duration]) == 2
    )
    rung_busy = [c for c in network.calls.values() if c.to == COUNSELOR_A and c.status == "busy"]
    assert rung_busy == []  # no ring met alex's phone still hanging up


def test_a_counselor_is_free_once_their_own_call_ends_or_a_few_seconds_after(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their <Dial> ending says the conversation is over; their phone is still
    up for a moment. Engaged until their call's status says it ended, or for
    HANGUP_GRACE_SECONDS (here shortened) if that status never comes."""
    monkeypatch.setattr(dispatches_module, "HANGUP_GRACE_SECONDS", 0.3)
    dispatches = Dispatches(redis_client, 600)
    for call_end_reported in (True, False):
        first, _ = dispatches.open_for_call(
            f"CA{int(call_end_reported):032x}", CALLERS[0], "en", "counselor"
        )
        leg = dispatches.add_leg(first.id, "alex", 1)
        assert leg
        assert dispatches.claim(first.id, leg) == "won"
        dispatches.conversation_over(first.id, "alex", phone_hung_up=False)  # <Dial> ended
        assert dispatches.engaged_counselors() == {"alex"}
        if call_end_reported:
            dispatches.conversation_over(first.id, "alex")  # their call: completed
            assert dispatches.engaged_counselors() == set()
        else:
            time.sleep(0.4)  # that status was lost: free after the grace all the same
            assert dispatches.engaged_counselors() == set()


def _queue_some_texts(client: redis.Redis, count: int = 5) -> Queue:
    queue = Queue(QUEUE_NAME, connection=client)
    for n in range(count):
        queue.enqueue("workers.outbox.send_batch", f"batch-{n}")
    return queue


def test_ringing_goes_ahead_of_texts_waiting_to_be_sent(
    twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    """A burst of texts queued a minute of replies; a caller's ring waited behind them."""
    store_always_on_call(redis_client)
    queue = _queue_some_texts(redis_client)
    call = CallFixture(twilio)
    call.press(call.start(), "1")
    assert queue.get_jobs()[0].func_name == "workers.dispatch.ring"


def test_a_crisis_alert_goes_ahead_of_texts_waiting_to_be_sent(
    twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    """A burst of texts held a counselor's crisis alert back 77 s."""
    store_always_on_call(redis_client)
    queue = _queue_some_texts(redis_client)
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "From": TEXTER,
        "To": "+18885550100",
        "Body": "I took too many pills",
        "NumMedia": "0",
        "AccountSid": "AC" + "0" * 32,
    }
    assert twilio.post("/sms/incoming", params).status_code == 200
    assert queue.get_jobs()[0].func_name == "workers.alerts.alert_on_call"
