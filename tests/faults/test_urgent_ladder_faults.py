"""The urgent ladder (ivr/urgent, workers/escalate.py) with real worker
processes: a worker SIGKILLed mid-ladder and a Redis restart still leave a
crisis nobody takes climbing to the supervisors on time.

The bound: each step is due a deadline (5 s here) after the last; a step
begun by a worker that died is run again once its lease (10 s here) has run
out, plus one sweep (2 s)."""

from __future__ import annotations

import time
from typing import cast

import pytest

from ivr.callbacks.urgent import ON_CALL_AGAIN, UrgentItems
from ivr.platform.privacy import number_ref
from tests.faults.conftest import PrivateLine
from tests.live import eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, SUPERVISOR, store_always_on_call

TEXTER = "+12025550177"
DEADLINE = 5
LEASE = {"HELPLINE_JOB_LEASE_SECONDS": "10", "HELPLINE_URGENT_CRISIS_SECONDS": str(DEADLINE)}
LEASE_SECONDS, SWEEP_SECONDS = 10, 2


def calls_to(line: PrivateLine, number: str) -> int:
    return sum(1 for c in line.network.calls.values() if c.to == number)


@pytest.mark.line_settings(HELPLINE_URGENT_CRISIS_SECONDS=str(DEADLINE))
def test_a_worker_killed_mid_ladder_and_a_redis_restart_still_reach_a_supervisor(
    private_line: PrivateLine,
) -> None:
    line = private_line
    store_always_on_call(line.redis)
    for phone in (COUNSELOR_A, COUNSELOR_B, SUPERVISOR):
        line.network.phone(phone, answer="no-answer")
    first = line.start_worker(**LEASE)
    texted = time.monotonic()
    line.network.text_line(TEXTER, "i took all my pills and i want to die")
    items = UrgentItems(line.redis, 3600)
    (item,) = eventually(items.open_items, timeout=10)
    # The first step up: the worker is killed as soon as it has begun it.
    eventually(lambda: (items.get(item.reference) or item).step >= ON_CALL_AGAIN, timeout=20)
    first.kill()
    line.server.stop()  # and Redis goes down and comes back with its data
    line.server.start()
    line.start_worker(**LEASE)
    eventually(lambda: calls_to(line, SUPERVISOR) >= 1, timeout=60)
    took = time.monotonic() - texted
    bound = 2 * DEADLINE + LEASE_SECONDS + 2 * SWEEP_SECONDS + 10  # generous: a guard
    assert took <= bound, f"the supervisor was rung {took:.1f} s after the text"
    audit = items.audit(item.reference)
    steps = [entry.split(" ", 1)[1].split(":")[0] for entry in audit]
    assert steps.count("supervisors") == 1
    assert "on_call_again" in steps

    # Each counselor's ladder text is in the outbox once, however often its step
    # ran. (Sent within seconds, or — when the killed worker held its send job —
    # when the outbox's sweeper finds it, QUEUED_GRACE_SECONDS later.)
    batches: dict[str, int] = {}
    for key in line.redis.scan_iter("outbox:*"):
        if line.redis.type(key) == b"hash" and line.redis.hget(key, "kind") == b"urgent_alert":
            to_ref = (cast(bytes | None, line.redis.hget(key, "to_ref")) or b"").decode()
            batches[to_ref] = batches.get(to_ref, 0) + 1
    secret = line.settings.secret_key
    for phone in (COUNSELOR_A, COUNSELOR_B, SUPERVISOR):
        assert batches.get(number_ref(secret, phone)) == 1, phone
    print(f"\nsupervisor rung {took:.1f} s after the crisis text (deadline {DEADLINE} s)")
