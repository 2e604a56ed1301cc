"""Webhooks delivered twice, and status callbacks out of order: no effect.

Twilio sends a webhook again when its first answer did not reach it, and
then acts on the second answer; status callbacks can arrive late, twice, or
in any order. Here the emulator delivers *every* webhook twice (the line's
first answer is lost, as when Twilio retries), through whole calls, texts and
a returned call with a real worker; then the status callbacks are replayed
late and backwards. Nothing may be sent, rung, dialed or counted twice, and
every step must still go where it should.

What the suite already proves with single webhooks sent twice:
tests/test_sms.py (`-k "same_message_sid or repeated_crisis or only_move_forward"`),
tests/test_routing_webhooks.py (`-k "repeated or late_and_repeated"`),
tests/test_voice_menu.py (`-k "twice or kept_once"`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.content.render import fill
from ivr.jobs import QUEUE_NAME, Jobs
from ivr.platform.redis_store import decoded
from ivr.routing.dispatches import Dispatches
from ivr.routing.figures import Figures, day_of
from ivr.sms.outbox import batch_key
from tests.live import MESSAGE_TO_CALL_BACK, LiveLine, WorkerProcess, eventually
from tests.rosters import COUNSELOR_A, store_always_on_call
from twilio_emulator import hangup, press, say, talk
from twilio_emulator.webhooks import Delivery

CALLER = "+12025550123"
PERSON = "+12025550177"
TEXTER = "+12025550166"
StartWorker = Callable[..., WorkerProcess]


@pytest.fixture
def twice(live_line: LiveLine) -> Iterator[list[Delivery]]:
    """Every webhook the emulator sends is sent twice; Twilio uses the second
    answer. The deliveries (the second of each) are kept, in order."""
    webhooks = live_line.network.webhooks
    once = webhooks.send
    sent: list[Delivery] = []

    def send_twice(url: str, params: dict[str, str], method: str = "POST") -> Delivery:
        once(url, params, method)  # its answer never reached Twilio
        delivery = once(url, params, method)
        sent.append(delivery)
        return delivery

    webhooks.send = send_twice  # type: ignore[method-assign]
    yield sent
    webhooks.send = once  # type: ignore[method-assign]


def replay(line: LiveLine, delivery: Delivery, **changes: str) -> Delivery:
    """The same webhook again, late, with some fields changed (a status)."""
    return line.network.webhooks.send(delivery.url, {**delivery.params, **changes})


def calls_to(line: LiveLine, number: str) -> int:
    return sum(1 for c in line.network.calls.values() if c.to == number)


def the_only_dispatch(line: LiveLine) -> str:
    found: list[str] = [
        k.decode().split(":")[1]
        for k in line.redis.scan_iter("dispatch:*")
        if k.count(b":") == 1 and k != b"dispatch:deadlines"
    ]
    assert len(found) == 1, found
    return found[0]


def jobs_made(line: LiveLine) -> int:
    return sum(1 for k in line.redis.scan_iter("rq:job:*") if k.count(b":") == 2)


def snapshot(line: LiveLine) -> tuple[object, ...]:
    """What a late callback must not change: every dispatch and its legs, the
    figures, the jobs ever made, every text's state, the calls placed.

    Jobs are counted by their records (kept 10 minutes and more after they
    run), not by the queue's length: a job still queued when the snapshot is
    taken and run by the worker during the replays is not a new job."""
    dispatches = Dispatches(line.redis, 60)
    ids = [
        k.decode().split(":")[1]
        for k in line.redis.scan_iter("dispatch:*")
        if k.count(b":") == 1 and k != b"dispatch:deadlines"
    ]
    return (
        sorted((d.id, d.state, d.winner) for i in ids if (d := dispatches.load(i))),
        sorted((leg.id, leg.state) for i in ids for leg in dispatches.legs(i)),
        Figures(line.redis, line.settings.timezone).day(day_of(zone_name=line.settings.timezone)),
        jobs_made(line),
        sorted(
            (k.decode(), tuple(sorted(decoded(line.redis.hgetall(k)).items())))
            for k in line.redis.scan_iter("outbox:*")
            if k.count(b":") == 1 and not k.startswith(b"outbox:sid") and k != b"outbox:leases"
        ),
        len(line.network.calls),
        len(line.network.sent_messages()),
    )


def test_a_call_to_a_counselor_with_every_webhook_twice_then_its_callbacks_backwards(
    live_line: LiveLine, start_worker: StartWorker, twice: list[Delivery]
) -> None:
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    start_worker()
    network = live_line.network
    network.phone(COUNSELOR_A, press("1"), talk(0.3))
    call = network.call_line(CALLER, press("1"))
    network.wait_for_call(call.sid, timeout=30)
    network.wait_until(network.idle, timeout=10)

    dispatch = Dispatches(live_line.redis, 60).load(the_only_dispatch(live_line))
    assert dispatch is not None
    assert dispatch.state == "bridged"
    heard = [h["kind"] for h in network.calls[call.sid].heard]
    assert "bridged" in heard, "the counselor's press, answered twice, still connects them"
    assert calls_to(live_line, COUNSELOR_A) == 1
    zone = live_line.settings.timezone
    figures = Figures(live_line.redis, zone).day(day_of(zone_name=zone))
    assert (figures.offered, figures.answered, figures.abandoned) == (1, 1, 0)
    assert figures.answered_by == {"alex": 1}

    # Now the status callbacks again, late and backwards, and earlier statuses
    # after the final one: `ringing` after `completed`.
    before = snapshot(live_line)
    statuses = [d for d in twice if "/status" in d.url]
    assert statuses, "the calls reported their end"
    for delivery in reversed(statuses):
        for status in ("completed", "in-progress", "ringing", "initiated"):
            replay(live_line, delivery, CallStatus=status)
    assert snapshot(live_line) == before


def test_nobody_on_call_a_voicemail_with_every_webhook_twice(
    live_line: LiveLine, start_worker: StartWorker, twice: list[Delivery]
) -> None:
    """Nobody on call: the caller asks for a counselor (counted once), takes
    the message option, and leaves a voicemail (one callback request)."""
    start_worker()
    network = live_line.network
    call = network.call_line(CALLER, *MESSAGE_TO_CALL_BACK, say("please call me"), hangup())
    network.wait_for_call(call.sid, timeout=30)
    zone = live_line.settings.timezone
    figures = Figures(live_line.redis, zone).day(day_of(zone_name=zone))
    assert (figures.offered, figures.unanswered) == (1, 1)
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    assert len(callbacks.open_references()) == 1


def test_texts_with_every_webhook_twice_then_their_status_callbacks_backwards(
    live_line: LiveLine, start_worker: StartWorker, twice: list[Delivery]
) -> None:
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    start_worker()
    network = live_line.network
    content = live_line.content
    network.text_line(TEXTER, "klonopin")
    crisis = network.text_line("+12025550169", "I want to die")
    assert crisis.replies, "the crisis reply is given again to the second delivery"
    expected = [fill(content, p.text("en"), "en", "sms") for p in content.texts["about_klonopin"]]
    eventually(lambda: len(network.sent_messages(to=TEXTER)) >= len(expected), timeout=30)
    eventually(lambda: network.sent_messages(to=COUNSELOR_A), timeout=30)  # the alert
    network.wait_until(network.idle, timeout=10)
    eventually(lambda: Queue(QUEUE_NAME, connection=live_line.redis).count == 0, timeout=10)
    assert [m.body for m in network.sent_messages(to=TEXTER)] == expected, "each part once"
    assert len(network.sent_messages(to=COUNSELOR_A)) == 1, "one alert"

    before = snapshot(live_line)
    statuses = [d for d in twice if d.url.split("?")[0].endswith("/sms/status")]
    assert statuses
    for delivery in reversed(statuses):  # delivered first, queued last
        for status in ("delivered", "sent", "sending", "queued", "accepted"):
            replay(live_line, delivery, MessageStatus=status, SmsStatus=status)
    after = snapshot(live_line)
    assert after == before
    batches = [k for k in live_line.redis.scan_iter("outbox:*") if k.count(b":") == 1]
    states = {
        v for k in batches for f, v in decoded(live_line.redis.hgetall(k)).items() if "state" in f
    }
    assert states <= {"delivered"}, states
    assert batch_key("x").startswith("outbox:")


def test_returning_a_call_with_every_webhook_twice(
    live_line: LiveLine, start_worker: StartWorker, twice: list[Delivery]
) -> None:
    """The counselor accepts (press 1, answered twice: the person is dialed
    once, not refused), reaches no one, and says so (press 2): one attempt."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    start_worker()
    network = live_line.network
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 60)
    reference = callbacks.create(PERSON, "en", "voicemail")
    network.phone(COUNSELOR_A, press("1"), press("2"))
    network.phone(PERSON, talk(0.3))
    Jobs(Queue(QUEUE_NAME, connection=live_line.redis)).connect_callback(reference, "alex")
    eventually(lambda: callbacks.get(reference).get("by") == "counselor call", timeout=30)
    network.wait_until(network.idle, timeout=10)
    assert calls_to(live_line, PERSON) == 1, "the person is dialed once"
    record = callbacks.get(reference)
    assert (record["status"], record.get("attempts")) == ("open", "1")
