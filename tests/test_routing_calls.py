"""Counselor routing played end to end: virtual phones for the caller and the
counselors, the emulator as Twilio, the real line, and a real worker process.
Each test waits on outcomes (bounded polls), never on timings."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.jobs import QUEUE_NAME, Jobs
from ivr.routing.dispatches import Dispatch, Dispatches
from ivr.routing.figures import Figures, day_of
from tests.live import (
    MESSAGE_TO_CALL_BACK,
    LiveLine,
    WorkerProcess,
    caller_on_hold,
    eventually,
)
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from twilio_emulator import hangup, press, say, talk, wait

CALLER = "+12025550123"
StartWorker = Callable[..., WorkerProcess]


def the_dispatch(line: LiveLine) -> Dispatch:
    keys = [
        k
        for k in line.redis.scan_iter("dispatch:*")
        if k.count(b":") == 1 and k != b"dispatch:deadlines"
    ]
    assert len(keys) == 1, keys
    found = Dispatches(line.redis, 60).load(keys[0].decode().split(":")[1])
    assert found is not None
    return found


def heard_by(line: LiveLine, number: str) -> str:
    return " ".join(
        h["text"]
        for c in line.network.calls.values()
        if c.to == number
        for h in c.heard
        if h["kind"] == "say"
    )


def calls_to(line: LiveLine, number: str) -> list[str]:
    return [c.status for c in line.network.calls.values() if c.to == number]


def test_the_first_counselor_accepts(live_line: LiveLine, start_worker: StartWorker) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    dispatch = the_dispatch(live_line)
    assert dispatch.state == "bridged", live_line.redis.hget(f"dispatch:{dispatch.id}", "why")
    assert dispatch.winner.startswith("alex-")
    assert "Press 1 to accept" in heard_by(live_line, COUNSELOR_A)
    assert calls_to(live_line, COUNSELOR_B) == []  # sequential: the first one took it
    zone = live_line.settings.timezone
    figures = Figures(live_line.redis, zone).day(day_of(zone_name=zone))
    assert (figures.offered, figures.answered) == (1, 1)
    assert figures.answered_by == {"alex": 1}


def test_the_first_rings_out_and_the_second_accepts(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, answer="no-answer")
    live_line.network.phone(COUNSELOR_B, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    assert the_dispatch(live_line).winner.startswith("blanca-")
    assert calls_to(live_line, COUNSELOR_A) == ["no-answer"]


def test_a_voicemail_that_picks_up_is_not_a_counselor(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, answer="voicemail")
    live_line.network.phone(COUNSELOR_B, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    dispatch = the_dispatch(live_line)
    assert dispatch.winner.startswith("blanca-")
    assert [
        leg.state
        for leg in Dispatches(live_line.redis, 60).legs(dispatch.id)
        if leg.counselor == "alex"
    ] == ["declined"]


def test_two_counselors_accepting_at_once_make_one_bridge(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker(HELPLINE_RING_STRATEGY="simultaneous")
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    live_line.network.phone(COUNSELOR_B, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    for leg in [
        c for c in list(live_line.network.calls.values()) if c.to in (COUNSELOR_A, COUNSELOR_B)
    ]:
        live_line.network.wait_for_call(leg.sid, timeout=60)  # every counselor leg is over
    dispatch = the_dispatch(live_line)
    assert dispatch.state == "bridged"
    legs = Dispatches(live_line.redis, 60).legs(dispatch.id)
    assert sorted(leg.state for leg in legs).count("accepted") == 1
    loser = COUNSELOR_B if dispatch.winner.startswith("alex-") else COUNSELOR_A
    heard = heard_by(live_line, loser)
    assert "Connecting you now" not in heard
    if "Press 1 to accept" in heard:  # it answered before its phone could be stopped
        assert "Another counselor took this call" in heard


def test_the_caller_hangs_up_while_counselors_ring(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, press("1"), ring_seconds=30.0)
    caller, call = caller_on_hold(live_line.network, CALLER)
    eventually(lambda: calls_to(live_line, COUNSELOR_A) == ["ringing"], timeout=20)
    caller.push({"hangup": True})
    live_line.network.wait_for_call(call.sid, timeout=30)
    eventually(lambda: the_dispatch(live_line).state == "abandoned", timeout=20)
    eventually(lambda: calls_to(live_line, COUNSELOR_A) == ["canceled"], timeout=20)
    zone = live_line.settings.timezone
    figures = Figures(live_line.redis, zone).day(day_of(zone_name=zone))
    assert (figures.abandoned, figures.answered) == (1, 0)


def test_the_caller_hangs_up_during_the_whisper(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    # The counselor hears the whisper and waits; it is cut short when the caller leaves.
    live_line.network.phone(COUNSELOR_A, wait(60.0), press("1"))
    caller, call = caller_on_hold(live_line.network, CALLER)
    eventually(lambda: "Press 1 to accept" in heard_by(live_line, COUNSELOR_A), timeout=20)
    caller.push({"hangup": True})
    live_line.network.wait_for_call(call.sid, timeout=30)
    eventually(
        lambda: (
            calls_to(live_line, COUNSELOR_A) and calls_to(live_line, COUNSELOR_A)[0] == "completed"
        ),
        timeout=20,
    )
    dispatch = the_dispatch(live_line)
    assert dispatch.state == "abandoned"
    assert dispatch.winner == ""
    assert "The caller has left" in heard_by(live_line, COUNSELOR_A)


def test_nobody_on_call_voicemail_then_a_counselor_returns_the_call(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    start_worker()
    network = live_line.network
    # Nobody on call: the other choices; 1 for a message; words after the tone.
    call = network.call_line(CALLER, *MESSAGE_TO_CALL_BACK, say("this is Ana, call me"), hangup())
    network.wait_for_call(call.sid, timeout=30)
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    (reference,) = callbacks.open_references()
    assert callbacks.get(reference)["source"] == "voicemail"
    return_the_call(live_line, reference, CALLER)
    assert [c.direction for c in network.calls.values() if c.to == CALLER] == ["outbound-dial"]


def return_the_call(live_line: LiveLine, reference: str, answering: str) -> None:
    """A counselor comes on the roster, is rung to return REFERENCE, accepts,
    talks until ANSWERING hangs up, then says "I reached them"."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    live_line.network.phone(COUNSELOR_A, press("1"), press("1"))
    live_line.network.phone(answering, talk(0.5))
    Jobs(Queue(QUEUE_NAME, connection=live_line.redis)).connect_callback(reference, "alex")
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    eventually(lambda: callbacks.get(reference).get("status") == "done", timeout=30)


def test_a_caller_on_a_shared_phone_is_called_back_at_the_number_they_gave(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    """Through the emulator: 2 for another number, keyed with # and confirmed;
    the counselor's return call dials that number, never the shared phone."""
    start_worker()
    network = live_line.network
    chosen = "+12025550144"
    call = network.call_line(
        CALLER,
        press("1"),  # nobody on call: the other choices
        press("1"),  # a message
        press("2"),  # called back at another number
        press("2025550144#"),
        press("1"),  # "we will call you back at 2 0 2, 5 5 5, 0 1 4 4": right
        say("this is Ana"),
        hangup(),
    )
    network.wait_for_call(call.sid, timeout=30)
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    (reference,) = callbacks.open_references()
    assert (callbacks.get(reference)["number"], callbacks.get(reference)["consent"]) == (
        chosen,
        "number",
    )
    return_the_call(live_line, reference, chosen)
    dialed = [c.to for c in network.calls.values() if c.direction == "outbound-dial"]
    assert dialed == [chosen]


def test_a_spanish_caller_with_only_an_english_counselor_reaches_them(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    start_worker()
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("9"), press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    assert the_dispatch(live_line).state == "bridged"
    assert "in Spanish" in heard_by(live_line, COUNSELOR_A)  # named in alex's language


@pytest.mark.line_settings(HELPLINE_JOB_LEASE_SECONDS="10", HELPLINE_RING_SECONDS="5")
def test_a_worker_killed_mid_dispatch_delays_the_caller_by_seconds(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    """The worker dies while Twilio is creating the first counselor's call; the
    next worker's sweeper notices the overdue ring and rings again."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    lease = {"HELPLINE_JOB_LEASE_SECONDS": "10", "HELPLINE_RING_SECONDS": "5"}
    first = start_worker(**lease)
    live_line.network.fail_next("calls", count=1, delay=3.0)  # Twilio is slow to answer
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    # The worker has opened the counselor's leg and is waiting on Twilio's create.
    eventually(
        lambda: any(
            k.endswith(b":legs") and live_line.redis.hlen(k)
            for k in live_line.redis.scan_iter("dispatch:*")
        ),
        timeout=20,
    )
    first.kill()
    killed_at = time.monotonic()
    start_worker(**lease)
    live_line.network.wait_for_call(call.sid, timeout=60)
    dispatch = the_dispatch(live_line)
    logs = "".join(w.log.read_text() for w in (first,) if w.log.exists())
    assert dispatch.state == "bridged", (
        live_line.redis.hget(f"dispatch:{dispatch.id}", "why"),
        logs[-3000:],
    )
    print(
        f"bridged {time.monotonic() - killed_at:.1f} s after the kill "
        "(ring 5 s, lease 10 s, sweeper 2 s)"
    )


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-01T05:30:00+00:00", "night"),  # 01:30 EDT, the first 01:30 of fall-back day
        ("2026-11-01T06:30:00+00:00", "night"),  # 01:30 EST, the repeated hour
        ("2026-11-01T12:00:00+00:00", "day"),
    ],
)
def test_a_call_on_the_fall_back_night_reaches_the_right_counselor(
    live_line: LiveLine, monkeypatch: pytest.MonkeyPatch, instant: str, expected: str
) -> None:
    from datetime import datetime

    from ivr.platform import clock
    from ivr.roster.parse import parse_roster
    from ivr.roster.store import RosterStore

    roster = parse_roster(
        {
            "timezone": "America/New_York",
            "counselors": [
                {"id": "night", "name": "Night", "phone": COUNSELOR_A, "languages": ["en"]},
                {"id": "day", "name": "Day", "phone": COUNSELOR_B, "languages": ["en"]},
            ],
            "shifts": [
                {"counselor": "night", "days": ["sat", "sun"], "start": "22:00", "end": "06:00"},
                {"counselor": "day", "days": ["sun"], "start": "06:00", "end": "22:00"},
            ],
        },
        "fall back",
    )
    RosterStore(live_line.redis).save(roster)
    monkeypatch.setattr(clock, "now", lambda: datetime.fromisoformat(instant))
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    live_line.network.phone(COUNSELOR_B, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    eventually(lambda: live_line.redis.exists("dispatch:deadlines"), timeout=20)
    live_line.run_jobs()  # the ring job, in this process, at the chosen instant
    live_line.network.wait_for_call(call.sid, timeout=30)
    dispatch = the_dispatch(live_line)
    why = live_line.redis.hget(f"dispatch:{dispatch.id}", "why")
    assert dispatch.winner.startswith(f"{expected}-"), (dispatch.state, why)
