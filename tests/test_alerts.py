"""Alerts to the counselors on call: at once, by reference, never the
person's number or words."""

from __future__ import annotations

from tests.live import LiveLine
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call

TEXTER = "+12025550188"


def test_a_crisis_text_alerts_everyone_on_call_by_reference(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    words = "I took too many pills tonight"
    inbound = live_line.network.text_line(TEXTER, words)
    assert inbound  # the line answered it inline (the emulator records the reply)
    live_line.run_jobs()
    for counselor in (COUNSELOR_A, COUNSELOR_B):
        (alert,) = live_line.network.sent_messages(to=counselor)
        assert "CR-" in alert.body
        assert "2025550188" not in alert.body
        assert "pills" not in alert.body


def test_a_call_request_by_text_alerts_by_reference_and_confirms(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    live_line.network.text_line(TEXTER, "call me please")
    live_line.run_jobs()
    (alert,) = live_line.network.sent_messages(to=COUNSELOR_A)
    assert "CB-" in alert.body
    assert "2025550188" not in alert.body
    (confirmation,) = live_line.network.sent_messages(to=TEXTER)
    assert "call this number back" in confirmation.body


def test_with_nobody_on_call_the_request_waits_in_the_open_list(live_line: LiveLine) -> None:
    from ivr.callbacks.requests import Callbacks

    live_line.network.text_line(TEXTER, "CALL")
    live_line.run_jobs()
    open_requests = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    assert len(open_requests.open_references()) == 1
