"""Urgent work climbs a ladder until a person takes it: the counselors on call
again, the supervisors, the backup line — each step audited, a claim stopping
it at once, a worker killed mid-step changing nothing (issue 15).

A deadline's passing is brought forward with `hurry` (what the sweeper finds
due when the time has come), so the ladder costs the suite no waiting."""

from __future__ import annotations

import time
from typing import cast

import pytest

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import BACKUP, ON_CALL_AGAIN, SUPERVISORS, UrgentItems
from ivr.line import Line
from tests.live import LiveLine, eventually
from tests.raw_replies import RawScored
from tests.rosters import COUNSELOR_A, COUNSELOR_B, SUPERVISOR, store_always_on_call
from twilio_emulator.phones import press
from workers.context import install
from workers.escalate import escalate

TEXTER = "+12025550177"
CRISIS = "i took all my pills and i want to die"


def items_of(line: LiveLine) -> UrgentItems:
    return UrgentItems(line.redis, 3600)


def the_item(line: LiveLine) -> str:
    (reference,) = [item.reference for item in items_of(line).open_items()]
    return reference


def climb(line: LiveLine, reference: str) -> str:
    """The deadline has passed: run the step the sweeper would queue."""
    items_of(line).hurry(reference)
    install(Line(line.settings, line.content, line.redis))
    try:
        done = escalate(reference)
    finally:
        install(None)
    line.run_jobs()
    return done


def live_line_metrics(line: LiveLine) -> str:
    from ivr.app import create_app

    app = create_app(line.settings, content=line.content)
    return app.test_client().get("/metrics").get_data(as_text=True)


def calls_to(line: LiveLine, number: str) -> int:
    return sum(1 for c in line.network.calls.values() if c.to == number)


def texts_to(line: LiveLine, number: str) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=number)]


@pytest.mark.line_settings(HELPLINE_URGENT_CRISIS_SECONDS="60")
def test_a_crisis_nobody_takes_climbs_to_supervisors_then_the_backup_line(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    for counselor in (COUNSELOR_A, COUNSELOR_B, SUPERVISOR):
        live_line.network.phone(counselor, answer="no-answer")
    backup = live_line.settings.backup_number
    live_line.network.phone(backup, press("1"))
    opened = time.time()
    live_line.network.text_line(TEXTER, CRISIS)
    live_line.run_jobs()
    reference = the_item(live_line)
    item = items_of(live_line).get(reference)
    assert item is not None
    assert item.kind == "crisis"
    assert item.step == 0
    # Step 0's deadline is the setting's: a minute after the text.
    (due,) = cast(RawScored, live_line.redis.zrange("urgent:deadlines", 0, -1, withscores=True))
    assert opened + 59 <= due[1] <= time.time() + 61

    assert climb(live_line, reference) == "on_call_again: 2 counselors"
    assert any("URGENT" in body and reference in body for body in texts_to(live_line, COUNSELOR_A))
    eventually(lambda: calls_to(live_line, COUNSELOR_A) == 1)  # the whisper call, first on call
    assert calls_to(live_line, SUPERVISOR) == 0

    eventually(
        lambda: (
            live_line.network.calls and all(c.finished for c in live_line.network.calls.values())
        )
    )
    assert climb(live_line, reference) == "supervisors: 1 supervisor"
    assert any(reference in body for body in texts_to(live_line, SUPERVISOR))
    eventually(lambda: calls_to(live_line, SUPERVISOR) == 1)

    eventually(
        lambda: (
            live_line.network.calls and all(c.finished for c in live_line.network.calls.values())
        )
    )
    assert climb(live_line, reference) == "backup: the backup line"
    # The backup line presses 1: it takes the item, and the person is dialed.
    eventually(lambda: (items_of(live_line).get(reference) or item).claimed_by == "backup line")
    eventually(lambda: calls_to(live_line, TEXTER) == 1)
    assert live_line.redis.zscore("urgent:deadlines", reference) is None
    assert climb(live_line, reference) == "nothing to do"  # claimed: the ladder stopped
    metrics = live_line_metrics(live_line)
    assert "helpline_urgent_reached_backup_total 1.0" in metrics
    assert "helpline_urgent_time_to_claim_seconds_count 1.0" in metrics
    assert "helpline_urgent_open 0.0" in metrics
    steps = [line.split(" ", 1)[1] for line in items_of(live_line).audit(reference)]
    assert [s.split(":")[0] for s in steps] == [
        "opened; the counselors on call alerted",
        "on_call_again",
        "supervisors",
        "backup",
        "claimed by backup line",
    ]
    # The audit names who, never the person's number or words.
    assert not any("2025550177" in s or "pills" in s for s in steps)


def test_with_no_counselor_on_call_the_reply_promises_none_and_supervisors_are_next(
    live_line: LiveLine,
) -> None:
    # Only a supervisor on call: no counselor for the reply to promise.
    from ivr.roster.parse import parse_roster
    from ivr.roster.store import RosterStore

    RosterStore(live_line.redis).save(
        parse_roster(
            {
                "timezone": "UTC",
                "counselors": [
                    {"id": "sol", "name": "Sol", "phone": SUPERVISOR, "languages": ["en", "es"],
                     "role": "supervisor"},
                ],
                "shifts": [{"counselor": "sol", "days": ["mon", "tue", "wed", "thu", "fri",
                            "sat", "sun"], "start": "00:00", "end": "24:00"}],
            },
            "test roster",
        )
    )  # fmt: skip
    live_line.network.phone(SUPERVISOR, press("1"))
    live_line.network.text_line(TEXTER, CRISIS)
    assert "No counselor from" in " ".join(texts_to(live_line, TEXTER))
    live_line.run_jobs()  # the alert finds nobody on call: the next step is due now
    reference = the_item(live_line)
    assert reference in items_of(live_line).due()
    install(Line(live_line.settings, live_line.content, live_line.redis))
    try:
        assert escalate(reference) == "on_call_again: nobody"
        assert escalate(reference) == "supervisors: 1 supervisor"  # at once, no deadline
    finally:
        install(None)
    live_line.run_jobs()
    eventually(lambda: (items_of(live_line).get(reference) or None).claimed_by == "sol")  # type: ignore[union-attr]


def test_a_reply_with_a_counselor_on_call_promises_a_counselor(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.text_line(TEXTER, CRISIS)
    words = " ".join(texts_to(live_line, TEXTER))
    assert "will also reach out" in words
    assert "No counselor" not in words


def test_a_step_begun_by_a_worker_that_died_is_run_again_once(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    for counselor in (COUNSELOR_A, COUNSELOR_B):
        live_line.network.phone(counselor, answer="no-answer")
    live_line.network.text_line(TEXTER, CRISIS)
    live_line.run_jobs()
    reference = the_item(live_line)
    items = items_of(live_line)
    items.hurry(reference)
    # A worker took the step and was SIGKILLed before doing it: its lease runs out.
    assert items.begin(reference, lease=0.0) == ON_CALL_AGAIN
    assert items.due(time.time() + 0.01) == [reference]
    assert climb(live_line, reference) == "on_call_again: 2 counselors"  # the same step again
    texts_before = len(texts_to(live_line, COUNSELOR_A))
    # Delivered twice (the sweeper queued it twice): nothing more happens.
    install(Line(live_line.settings, live_line.content, live_line.redis))
    try:
        assert escalate(reference) == "nothing to do"
    finally:
        install(None)
    live_line.run_jobs()
    assert len(texts_to(live_line, COUNSELOR_A)) == texts_before
    assert (items.get(reference) or None).step == ON_CALL_AGAIN  # type: ignore[union-attr]


def test_a_claim_stops_the_ladder_and_the_first_claim_stands(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    texted = time.time()
    live_line.network.text_line(TEXTER, CRISIS)
    live_line.run_jobs()
    reference = the_item(live_line)
    items = items_of(live_line)
    assert items.claim(reference, "alex")
    took = time.time() - texted
    assert not items.claim(reference, "blanca")
    assert (items.get(reference) or None).claimed_by == "alex"  # type: ignore[union-attr]
    assert items.open_items() == []
    items.hurry(reference)
    assert items.begin(reference, 15) is None
    (time_to_claim,) = items.times_to_claim()
    assert 0 <= time_to_claim <= took + 0.1  # stored to a tenth


def test_the_backup_line_is_called_at_most_its_tries(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis, supervised=False)
    live_line.network.text_line(TEXTER, CRISIS)
    reference = the_item(live_line)
    items = items_of(live_line)
    steps = []
    for _ in range(8):
        items.hurry(reference)
        step = items.begin(reference, 15)
        if step is None:
            break
        steps.append(step)
        items.finish(reference, step, time.time() + 60, "test")
    assert steps == [ON_CALL_AGAIN, SUPERVISORS, BACKUP, BACKUP, BACKUP]
    assert (items.get(reference) or None).reached_backup  # type: ignore[union-attr]
    assert Callbacks(live_line.redis, "", 60).get(reference)["urgent"] == "1"


def test_a_counselor_takes_it_by_replying_to_the_alert_and_a_stranger_cannot(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.text_line(TEXTER, CRISIS)
    live_line.run_jobs()
    reference = the_item(live_line)
    # A texter who types a reference is a texter: nothing is taken.
    live_line.network.text_line(TEXTER, reference)
    live_line.run_jobs()
    assert (items_of(live_line).get(reference) or None).claimed_by == ""  # type: ignore[union-attr]
    live_line.network.text_line(COUNSELOR_B, f"take {reference.lower()}")
    live_line.run_jobs()
    assert (items_of(live_line).get(reference) or None).claimed_by == "blanca"  # type: ignore[union-attr]
    assert any("is yours" in body for body in texts_to(live_line, COUNSELOR_B))
    live_line.network.text_line(COUNSELOR_A, reference)
    live_line.run_jobs()
    assert any("already taken" in body for body in texts_to(live_line, COUNSELOR_A))
    assert (items_of(live_line).get(reference) or None).claimed_by == "blanca"  # type: ignore[union-attr]
