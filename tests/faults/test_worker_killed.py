"""A worker SIGKILLed while returning a call (workers.callbacks.connect):
nothing lost, nobody dialed twice, the delay bounded.

Killed during a send and during a dispatch are proven in tests/test_outbox.py
(`-k killed`) and tests/test_routing_calls.py (`-k killed`).

The bound: a connect whose worker died is run again by another worker's
sweeper once its lease has run out (HELPLINE_JOB_LEASE_SECONDS, 15 s by
default; 10 s here) plus one sweep (2 s). The new run asks Twilio whether the
dead one's call was placed before it rings: the counselor is rung once, and
the person once, when the counselor presses 1."""

from __future__ import annotations

import time

from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.returning import CONNECTING, connecting_member
from ivr.jobs import QUEUE_NAME, Jobs
from tests.faults.conftest import PrivateLine
from tests.live import eventually
from tests.rosters import COUNSELOR_A, store_always_on_call
from twilio_emulator import press, talk

PERSON = "+12025550177"  # left a voicemail, waits for a call back
LEASE = {"HELPLINE_JOB_LEASE_SECONDS": "10"}
LEASE_SECONDS = 10
SWEEP_SECONDS = 2


def calls_to(line: PrivateLine, number: str) -> list[str]:
    return [c.sid for c in line.network.calls.values() if c.to == number]


def waiting_callback(line: PrivateLine) -> tuple[Callbacks, str]:
    store_always_on_call(line.redis, ("alex", COUNSELOR_A, ["en"]))
    callbacks = Callbacks(line.redis, line.settings.secret_key, 86400)
    return callbacks, callbacks.create(PERSON, "en", "voicemail")


def test_killed_while_twilio_places_the_counselors_call(private_line: PrivateLine) -> None:
    """Twilio is slow to answer the create, the worker dies waiting, Twilio
    places the call anyway. The next worker's run finds that call at Twilio
    (the counselor's phone is still ringing) and does not ring again."""
    line = private_line
    network = line.network
    callbacks, reference = waiting_callback(line)
    # The counselor lets it ring past the lease, accepts, talks, then says "reached".
    network.phone(COUNSELOR_A, press("1"), press("1"), ring_seconds=LEASE_SECONDS + 3)
    network.phone(PERSON, talk(0.3))
    first = line.start_worker(**LEASE)
    network.fail_next("calls", count=1, delay=2.0)
    Jobs(Queue(QUEUE_NAME, connection=line.redis)).connect_callback(reference, "alex")
    eventually(lambda: line.redis.exists(f"callback:{reference}:ring"), timeout=15)
    time.sleep(0.5)  # the create is with Twilio now
    first.kill()
    killed_at = time.monotonic()
    line.start_worker(**LEASE)
    # The sweeper takes up the dead run once its lease is over.
    member = connecting_member(reference, "alex")
    eventually(lambda: line.redis.zscore(CONNECTING, member) is None, timeout=30)
    taken_up = time.monotonic() - killed_at
    eventually(lambda: callbacks.get(reference).get("status") == "done", timeout=40)
    assert len(calls_to(line, COUNSELOR_A)) == 1, "the counselor is rung once"
    assert len(calls_to(line, PERSON)) == 1, "the person is dialed once"
    assert taken_up <= LEASE_SECONDS + SWEEP_SECONDS + 3  # generous: a guard, not a benchmark
    print(f"\ntaken up {taken_up:.1f} s after the kill (lease {LEASE_SECONDS} s)")


def test_killed_before_twilio_heard_of_it(private_line: PrivateLine) -> None:
    """What a worker killed after noting the ring and before Twilio got the
    request leaves behind: the note, the request marked as being returned, and
    the run's lease running out. The sweeper runs it again; Twilio has no such
    call, so the counselor is rung now — once — and the person reached."""
    line = private_line
    network = line.network
    callbacks, reference = waiting_callback(line)
    network.phone(COUNSELOR_A, press("1"), press("1"))
    network.phone(PERSON, talk(0.3))
    died_at = time.time()
    line.redis.set(f"callback:{reference}:calling", "alex", ex=300)
    line.redis.hset(f"callback:{reference}:ring", mapping={"started": died_at, "counselor": "alex"})
    line.redis.zadd(CONNECTING, {connecting_member(reference, "alex"): died_at})  # lease over
    started = time.monotonic()
    line.start_worker(**LEASE)
    eventually(lambda: calls_to(line, COUNSELOR_A), timeout=20)
    rung_after = time.monotonic() - started
    eventually(lambda: callbacks.get(reference).get("status") == "done", timeout=30)
    assert len(calls_to(line, COUNSELOR_A)) == 1
    assert len(calls_to(line, PERSON)) == 1
    print(f"\nrung {rung_after:.1f} s after the worker started (sweep {SWEEP_SECONDS} s)")
