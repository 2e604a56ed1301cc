"""The outbox through the emulator: every text once, in order; transient
failures retried within bounds, permanent ones never; opt-outs hold; a worker
killed mid-send neither loses nor duplicates a text."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry

from ivr.content.render import fill
from ivr.jobs import QUEUE_NAME
from ivr.platform.redis_store import decoded
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import Outbox, batch_key
from tests.live import LINE_NUMBER, LiveLine, WorkerProcess, eventually
from twilio_emulator.messaging import NETWORK_START, NETWORK_STOP

TEXTER = "+12025550166"


def outbox(line: LiveLine) -> Outbox:
    return Outbox(
        line.redis, Queue(QUEUE_NAME, connection=line.redis), line.settings.secret_key, 86400
    )


def about(line: LiveLine, language: str = "en") -> list[str]:
    return [
        fill(line.content, p.text(language), language, "sms")
        for p in line.content.texts["about_klonopin"]
    ]


def bodies(line: LiveLine, to: str = TEXTER) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=to)]


def test_a_keyword_reply_arrives_whole_and_in_order(live_line: LiveLine) -> None:
    live_line.network.text_line(TEXTER, "klonopin")
    eventually(lambda: Queue(QUEUE_NAME, connection=live_line.redis).count)
    live_line.run_jobs()
    assert bodies(live_line) == about(live_line)
    assert {m.from_ for m in live_line.network.sent_messages(to=TEXTER)} == {LINE_NUMBER}


def test_status_callbacks_reach_the_record(live_line: LiveLine) -> None:
    batch = outbox(live_line).send(TEXTER, ["one", "two"], cause="t1", kind="test")
    live_line.run_jobs()
    key = batch_key(batch)
    # Each text's callbacks come on their own, in no order between the two texts:
    # the second's "delivered" can come before the first's (a fresh clone, 2026-12-07).

    def states() -> list[str | None]:
        record = decoded(live_line.redis.hgetall(key))
        return [record.get("state0"), record.get("state1")]

    eventually(lambda: states() == ["delivered", "delivered"])


def test_429_twice_then_success_sends_exactly_one_text(live_line: LiveLine) -> None:
    live_line.network.fail_next("messages", count=2, code=20429, status=429)
    batch = outbox(live_line).send(TEXTER, ["hello"], cause="t2", kind="test")
    live_line.run_jobs()
    assert bodies(live_line) == ["hello"]
    assert outbox(live_line).batch(batch)["status"] == "sent"


@pytest.mark.parametrize("fault", [{"status": 500}, {"drop": True}])
def test_server_errors_and_dropped_connections_are_retried_without_duplicates(
    live_line: LiveLine, fault: dict[str, object]
) -> None:
    live_line.network.fail_next("messages", count=1, **fault)
    outbox(live_line).send(TEXTER, ["first", "second"], cause="t3", kind="test")
    live_line.run_jobs()
    assert bodies(live_line) == ["first", "second"]


def test_transient_failures_are_not_retried_forever(live_line: LiveLine) -> None:
    live_line.network.fail_next("messages", count=50, code=20429, status=429)
    batch = outbox(live_line).send(TEXTER, ["hello"], cause="t4", kind="test")
    live_line.run_jobs(rounds=20)
    assert bodies(live_line) == []
    queue = Queue(QUEUE_NAME, connection=live_line.redis)
    assert FailedJobRegistry(queue=queue).count == 1  # visible, not lost, not looping
    assert outbox(live_line).batch(batch)["status"] == "sending"


@pytest.mark.parametrize("code", [21211, 21614, 21408])
def test_permanent_errors_are_recorded_and_never_retried(live_line: LiveLine, code: int) -> None:
    live_line.network.fail_next("messages", count=1, code=code)
    batch = outbox(live_line).send(TEXTER, ["hello"], cause=f"t5{code}", kind="test")
    live_line.run_jobs()
    record = outbox(live_line).batch(batch)
    assert record["status"] == "failed"
    assert str(code) in record["detail"]
    creates = [r for r in live_line.network.requests if r["method"] == "POST"]
    assert len(creates) == 1


def test_21610_marks_the_number_opted_out(live_line: LiveLine) -> None:
    live_line.network.fail_next("messages", count=1, code=21610)
    outbox(live_line).send(TEXTER, ["hello"], cause="t6", kind="test")
    live_line.run_jobs()
    assert OptOuts(live_line.redis, live_line.settings.secret_key).is_opted_out(TEXTER)
    outbox(live_line).send(TEXTER, ["again"], cause="t7", kind="test")
    live_line.run_jobs()
    assert bodies(live_line) == []


def test_a_job_run_twice_sends_once(live_line: LiveLine) -> None:
    batch = outbox(live_line).send(TEXTER, ["a", "b", "c"], cause="t8", kind="test")
    live_line.run_jobs()
    outbox(live_line).enqueue(batch, attempt=1)  # as if RQ or the sweeper ran it again
    live_line.run_jobs()
    assert bodies(live_line) == ["a", "b", "c"]


def test_the_per_recipient_cap_holds(live_line: LiveLine) -> None:
    """Over the cap, one notice that replies are paused (never silence), then nothing."""
    cap = live_line.settings.sms_per_recipient_per_hour
    for n in range(cap + 3):
        outbox(live_line).send(TEXTER, [f"text {n}"], cause=f"cap{n}", kind="test")
    live_line.run_jobs()
    notice = [
        fill(live_line.content, p.text("en"), "en", "sms")
        for p in live_line.content.texts[live_line.content.sms.replies["rate_limited"]]
    ]
    assert bodies(live_line) == [f"text {n}" for n in range(cap)] + notice


def test_alerts_to_counselors_are_never_capped(live_line: LiveLine) -> None:
    cap = live_line.settings.sms_per_recipient_per_hour
    for n in range(cap + 3):
        outbox(live_line).send(TEXTER, [f"alert {n}"], cause=f"a{n}", kind="crisis_alert")
    live_line.run_jobs()
    assert len(bodies(live_line)) == cap + 3


def test_stop_then_text_me_from_a_call_sends_nothing_and_start_restores(
    live_line: LiveLine,
) -> None:
    from twilio_emulator import hangup, press

    network = live_line.network
    network.text_line(TEXTER, "STOP")
    live_line.run_jobs()
    # The line tries its one confirmation; Twilio (which keeps its own opt-out
    # list, and whose toll-free carrier confirms STOP itself) refuses it with
    # 21610, and that is recorded as expected, not retried.
    refused = [r for r in network.requests if r["method"] == "POST"]
    assert len(refused) == 1
    assert bodies(live_line) == [NETWORK_STOP]  # the carrier's, not the line's
    network.phone(TEXTER, press("4"), press("1"), hangup())
    network.wait_for_call(network.call_line(TEXTER).sid)
    network.text_line(TEXTER, "KLONOPIN")
    live_line.run_jobs()
    assert [r for r in network.requests if r["method"] == "POST"] == refused  # nothing tried
    network.text_line(TEXTER, "START")  # the carrier confirms it; the line need not
    network.text_line(TEXTER, "KLONOPIN")
    live_line.run_jobs()
    carrier = [NETWORK_STOP, NETWORK_START.format(word="Start")]
    assert bodies(live_line) == carrier + about(live_line)


def test_the_sender_pace_is_kept(live_line: LiveLine) -> None:
    """3 segments a second: no second at Twilio holds a fourth one-segment text."""
    for n in range(10):
        outbox(live_line).send(f"+1202555{n:04d}", [f"text {n}"], cause=f"r{n}", kind="test")
    live_line.run_jobs()
    creates = sorted(
        r["received"]
        for r in live_line.network.requests
        if r["method"] == "POST" and r["path"].endswith("/Messages.json")
    )
    assert len(creates) == 10
    # Any four in a row span a second or more (a few ms of clock jitter allowed).
    spans = [creates[i + 3] - creates[i] for i in range(len(creates) - 3)]
    assert min(spans) >= 1 - 0.02


def test_a_worker_killed_mid_send_neither_loses_nor_duplicates(
    live_line: LiveLine, start_worker: Callable[..., WorkerProcess]
) -> None:
    """The create stalls in the emulator; the worker is SIGKILLed while waiting;
    Twilio (the emulator) still takes the text. A second worker's sweeper sees the
    lease run out, asks Twilio what went out, and sends only the rest."""
    live_line.network.fail_next("messages", count=1, delay=3.0)
    batch = outbox(live_line).send(TEXTER, ["one", "two", "three"], cause="kill", kind="test")
    first = start_worker(HELPLINE_JOB_LEASE_SECONDS="10")
    eventually(lambda: live_line.redis.hget(batch_key(batch), "sending0"))  # mid-send now
    first.kill()
    killed_at = time.monotonic()
    start_worker(HELPLINE_JOB_LEASE_SECONDS="10")
    eventually(lambda: outbox(live_line).batch(batch).get("status") == "sent", timeout=30)
    delay = time.monotonic() - killed_at
    assert bodies(live_line) == ["one", "two", "three"]
    print(f"resumed {delay:.1f} s after the kill (lease 10 s)")
