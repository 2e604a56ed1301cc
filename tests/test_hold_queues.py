"""Twilio keeps a queue until it is deleted ("Queues persist", docs/voice/api/
queue-resource), and the line makes one per caller who asks for a counselor:
each must be deleted once its caller is done with it, however the wait ended,
and never while a caller waits in it (ivr/routing/hold_queues.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue

from ivr.jobs import QUEUE_NAME, Jobs
from ivr.platform.redis_store import text
from ivr.platform.twilio_transport import twilio_client
from ivr.routing.dispatches import BUSY_FOR_AT_MOST, DEADLINES, Dispatches
from ivr.routing.hold_queues import SWEEP_SECONDS, dispatch_of_queue, may_delete, sweep_due
from ivr.routing.holding import queue_name
from tests.live import LiveLine, WorkerProcess, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from twilio_emulator import give_up, press, talk

CALLER = "+12025550123"
StartWorker = Callable[..., WorkerProcess]


def the_line_queues(line: LiveLine) -> list[str]:
    """The line's queues the emulator (as Twilio) still keeps."""
    return [
        q.friendly_name for q in line.network.queues.all() if dispatch_of_queue(q.friendly_name)
    ]


def a_dispatch_state(line: LiveLine) -> str:
    keys = [text(k) for k in line.redis.scan_iter("dispatch:*")]
    found = [line.redis.hget(k, "state") for k in keys if k.count(":") == 1 and k != DEADLINES]
    return ",".join(text(state) for state in found if state)


def test_a_conversation_leaves_no_queue_behind(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    assert a_dispatch_state(live_line) == "bridged"
    eventually(lambda: the_line_queues(live_line) == [], timeout=15)


def test_a_caller_who_hangs_up_on_hold_leaves_no_queue_behind(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, press("1"), ring_seconds=8.0)
    call = live_line.network.call_line(CALLER, press("1"), give_up(1.5))
    live_line.network.wait_for_call(call.sid, timeout=30)
    eventually(lambda: a_dispatch_state(live_line) == "abandoned", timeout=20)
    eventually(lambda: the_line_queues(live_line) == [], timeout=15)


@pytest.mark.line_settings(HELPLINE_RING_ROUNDS="1")
def test_a_caller_nobody_answers_leaves_no_queue_behind(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone(COUNSELOR_A, answer="busy")
    live_line.network.phone(COUNSELOR_B, answer="busy")
    # Moved on to the other choices when nobody is left to ring; then silent.
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    eventually(lambda: a_dispatch_state(live_line) == "gave_up", timeout=20)
    eventually(lambda: the_line_queues(live_line) == [], timeout=15)


def test_a_queue_with_a_caller_waiting_is_kept(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.phone(COUNSELOR_A, answer="no-answer", ring_seconds=30.0)
    call = live_line.network.call_line(CALLER, press("1"))
    queues = eventually(lambda: live_line.network.queues.all(), timeout=20)
    assert len(queues) == 1
    queue_sid = queues[0].sid
    eventually(lambda: queues[0].members, timeout=20)  # the caller has joined it
    jobs = Jobs(_rq(live_line))
    jobs.delete_queue(queue_sid)
    live_line.run_jobs()
    [member] = twilio_client(live_line.settings).queues(queue_sid).members.list()
    assert member.call_sid == call.sid  # still waiting, unharmed
    twilio_client(live_line.settings).calls(call.sid).update(status="completed")
    live_line.network.wait_for_call(call.sid, timeout=20)
    jobs.delete_queue(queue_sid)
    live_line.run_jobs()
    assert live_line.network.queues.get(queue_sid) is None


def test_the_sweep_deletes_only_the_line_s_empty_queues_whose_wait_is_over(
    live_line: LiveLine,
) -> None:
    rest = twilio_client(live_line.settings)
    dispatches = Dispatches(live_line.redis, 3600)
    over, _ = dispatches.open_for_call("CA" + "1" * 32, CALLER, "en", "counselor")
    dispatches.finish(over.id, "abandoned")
    waiting, _ = dispatches.open_for_call("CA" + "2" * 32, CALLER, "en", "counselor")
    unknown = "0123456789abcdef0123"  # no such dispatch here, and just made
    for name in (queue_name(over.id), queue_name(waiting.id), queue_name(unknown), "support"):
        rest.queues.create(friendly_name=name)
    Jobs(_rq(live_line)).sweep_queues()
    live_line.run_jobs()
    kept = sorted(q.friendly_name for q in live_line.network.queues.all())
    assert kept == sorted([queue_name(waiting.id), queue_name(unknown), "support"])


def test_which_queues_the_sweep_may_delete(redis_client: redis.Redis) -> None:
    dispatches = Dispatches(redis_client, 3600)
    now = time.time()
    long_ago = datetime.now(UTC) - timedelta(seconds=BUSY_FOR_AT_MOST + 60)
    just_now = datetime.now(UTC)
    bridged, _ = dispatches.open_for_call("CA" + "3" * 32, CALLER, "en", "counselor")
    redis_client.hset(f"dispatch:{bridged.id}", mapping={"state": "bridged", "answered_at": now})
    name = queue_name(bridged.id)
    assert not may_delete(dispatches, name, just_now, now)  # talking through it
    assert may_delete(dispatches, name, just_now, now + BUSY_FOR_AT_MOST)  # its end was lost
    dispatches.conversation_over(bridged.id, "alex")
    assert may_delete(dispatches, name, just_now, now)
    unknown = queue_name("f" * 20)
    assert not may_delete(dispatches, unknown, just_now, now)
    assert not may_delete(dispatches, unknown, None, now)
    assert may_delete(dispatches, unknown, long_ago, now)
    assert not may_delete(dispatches, "support", long_ago, now)
    assert not may_delete(dispatches, "d" + "F" * 20, long_ago, now)  # not a name the line makes


def test_one_sweep_per_period_and_none_at_a_worker_s_start(redis_client: redis.Redis) -> None:
    now = 1_000_000.0
    assert not sweep_due(redis_client, now)  # the first look only sets the next sweep
    assert not sweep_due(redis_client, now + 1)
    assert sweep_due(redis_client, now + SWEEP_SECONDS)
    assert not sweep_due(redis_client, now + SWEEP_SECONDS)  # a second worker: already taken
    assert sweep_due(redis_client, now + 2 * SWEEP_SECONDS)


def _rq(line: LiveLine) -> Queue:
    return Queue(QUEUE_NAME, connection=line.redis)
