"""Time to ring a counselor (issue 8, item 2).

The line as production runs it (gunicorn `helpline serve`, one `helpline
worker`, a private Redis on a unix socket), the emulator in this process with
every REST request timestamped as it arrives. A roster of three counselors on
call all week, whose phones ring until stopped.

One trial: a caller's call begins (POST /voice/incoming), then the caller
presses 1 for a counselor (POST /voice/menu/main). The figure is from that
webhook's response being read to the emulator receiving the worker's
Calls.json create. Then the caller hangs up (POST /voice/status), the worker
stops the counselor's phone, and the next trial waits for the line to be quiet.

The baseline, interleaved trial by trial with the same worker: a bare job
(bench.jobs.stamp) queued as the ring job is (at the front), from `enqueue`
returning to the job's first line. Both ends are time.time() on one machine.
"""

from __future__ import annotations

import secrets
import statistics
import time
from dataclasses import dataclass

import redis

from bench.jobs import STAMP_JOB
from bench.line import CALL_UPDATE, CALLS_CREATE, Caller, WorkerStack
from bench.machine import machine_line
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore
from loadtest.stack import LINE_NUMBER, StackOptions
from twilio_emulator.phones import Answer

TRIALS = 200
WARMUP = 10  # trials first, not counted: imports, the roster's first load, connections
SETTLE_SECONDS = 0.03  # after a trial's clean-up: the worker back waiting on its queue
TARGET_P50_MS = 10.0
TARGET_P99_MS = 50.0
COUNSELORS = [("ana", "+12025550111"), ("ben", "+12025550112"), ("cam", "+12025550113")]
CALLER_NUMBER = "+12025550123"


def roster_data() -> dict[str, object]:
    return {
        "timezone": "America/New_York",
        "counselors": [
            {"id": cid, "name": cid.title(), "phone": phone, "languages": ["en"]}
            for cid, phone in COUNSELORS
        ],
        "shifts": [
            {
                "counselor": cid,
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "24:00",
            }
            for cid, _phone in COUNSELORS
        ],
    }


def store_roster(client: redis.Redis) -> None:
    RosterStore(client).save(parse_roster(roster_data(), "bench roster"))


@dataclass(frozen=True)
class Figures:
    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int


def figures(seconds: list[float]) -> Figures:
    cuts = statistics.quantiles(seconds, n=100)
    return Figures(cuts[49] * 1000, cuts[98] * 1000, max(seconds) * 1000, len(seconds))


def ring_trial(stack: WorkerStack, caller: Caller, index: int, run: str) -> float:
    """One caller asking for a counselor: seconds from the webhook's answer to
    the ring reaching Twilio (negative: the ring went out before the answer)."""
    arrivals = stack.timed()
    sid = f"CA{run}{index:024x}"
    call = {"CallSid": sid, "From": CALLER_NUMBER, "To": LINE_NUMBER}
    caller.post("/voice/incoming", call)
    before = time.time()
    answer = caller.post("/voice/menu/main", {**call, "Digits": "1"})
    answered = time.time()
    if "<Enqueue" not in answer.text:
        raise RuntimeError("the counselor choice did not put the caller on hold")
    rang = arrivals.wait_for(CALLS_CREATE, before)
    # The caller hangs up: the worker stops the counselor's phone; then quiet.
    hung_up = time.time()
    caller.post("/voice/status", {**call, "CallStatus": "completed"})
    arrivals.wait_for(CALL_UPDATE, hung_up)
    time.sleep(SETTLE_SECONDS)
    return rang - answered


def baseline_trial(stack: WorkerStack, client: redis.Redis, index: int) -> float:
    key = f"bench:stamp:{index}"
    queue = stack.queue()
    queue.enqueue(STAMP_JOB, key, result_ttl=600, at_front=True)
    queued = time.time()
    found = client.blpop([key], timeout=5)
    if found is None:
        raise RuntimeError("the baseline job did not run within 5 s")
    time.sleep(SETTLE_SECONDS)
    return float(found[1]) - queued


def measure(stack: WorkerStack) -> tuple[list[float], list[float]]:
    caller = Caller(stack)
    client = stack.redis_client()
    run = secrets.token_hex(4)
    rings: list[float] = []
    bases: list[float] = []
    for index in range(WARMUP + TRIALS):
        # Interleaved: whatever else the machine is doing falls on both alike.
        base = baseline_trial(stack, client, index)
        ring = ring_trial(stack, caller, index, run)
        if index >= WARMUP:
            bases.append(base)
            rings.append(ring)
    return rings, bases


def report(rings: list[float], bases: list[float], seconds: float) -> None:
    ring, base = figures(rings), figures(bases)
    early = sum(1 for r in rings if r < 0)
    print()
    print(machine_line(seconds))
    print(
        f"one `helpline worker` (RQ SimpleWorker subclass, no fork per job); {ring.samples} "
        f"trials after {WARMUP} warm-up, each a ring and a baseline job, interleaved"
    )
    print("| figure | ms | baseline ms | ratio | target | |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("time to ring, p50", ring.p50_ms, base.p50_ms, TARGET_P50_MS),
        ("time to ring, p99", ring.p99_ms, base.p99_ms, TARGET_P99_MS),
    ]
    for label, value, baseline, target in rows:
        ratio = value / baseline if baseline > 0 else float("inf")
        mark = "ok" if value <= target else "MISSED"
        print(
            f"| {label} | {value:.2f} | {baseline:.2f} | {ratio:.1f}x | <= {target:g} ms | {mark} |"
        )
    print(f"| time to ring, max | {ring.max_ms:.2f} | {base.max_ms:.2f} | | | |")
    print(
        "(figure: the caller's 'talk to a counselor' webhook answered -> the emulator "
        "receives Calls.json; baseline: a bare RQ job on the same worker, enqueue -> its "
        f"first line; {early} ring(s) reached the emulator before the webhook's answer)"
    )


def main() -> None:
    started = time.monotonic()
    print("time to ring a counselor (issue 8, item 2): starting Redis and the line", flush=True)
    options = StackOptions(workers=1, ring_seconds=30, max_hold_seconds=180)
    with WorkerStack(options) as stack:
        stack.start_timed(store_roster)
        for _cid, phone in COUNSELORS:
            stack.network.phone(phone, answer=Answer.NO_ANSWER, ring_seconds=60)
        rings, bases = measure(stack)
    report(rings, bases, time.monotonic() - started)


if __name__ == "__main__":
    main()
