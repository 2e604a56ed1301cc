"""Outbox throughput and the sender's rate limit (issue 8, item 3).

The line as production runs it (gunicorn `helpline serve`, `helpline worker`,
a private Redis on a unix socket), the emulator in this process with every
REST request timestamped as it arrives.

Throughput, one worker, rate limiting off: a gate job holds the worker while
TEXTS one-text replies, each to its own number, are queued through the
outbox (Outbox.send, as the SMS webhook does); the gate opens and the figure
is texts handed to the emulator per second, first Messages.json to last. The
baseline, the same way on the same worker: NOOP_JOBS bare jobs queued with the
outbox job's options, first start to last.

Rate limit, 3 segments/s: a second worker, started with the limit on and held
by a gate until now, takes over; BURST one-segment texts are queued at once,
and for a minute from the first one every Messages.json arrival is kept: no
one-second window may hold more than 3.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass

import redis
from rq import Queue, Retry
from rq.job import Job

from bench.jobs import GATE_JOB, NOOP_JOB
from bench.line import MESSAGES_CREATE, WorkerStack
from bench.machine import machine_line
from ivr.jobs import SEND_RETRY_INTERVALS as RETRY_INTERVALS
from ivr.sms.outbox import Outbox
from loadtest.stack import StackOptions

NOOP_JOBS = 1500
TEXTS = 400
BURST = 240  # more than a minute holds at 3/s: the limiter, not the supply, sets the pace
BURST_SECONDS = 60.0
RATE = 3  # segments per second, a toll-free number's default
TARGET_RATIO = 0.5
BODY = "Thanks for your message. Reply HELP for help."  # one GSM-7 segment
RETENTION = 30 * 86400


@dataclass(frozen=True)
class Paced:
    sent: int
    seconds: float
    worst_window: int  # the most texts any one-second window held
    closest_ms: float  # the shortest gap between two texts


class Gate:
    """Hold the worker (bench.jobs.gate) while work is queued behind it."""

    def __init__(self, queue: Queue, client: redis.Redis) -> None:
        self._queue = queue
        self._client = client
        self._key = f"bench:gate:{secrets.token_hex(4)}"

    def close(self) -> None:
        self._queue.enqueue(GATE_JOB, self._key, 120.0, result_ttl=60)
        if self._client.blpop([f"{self._key}:held"], timeout=30) is None:
            raise RuntimeError("the worker did not take the gate job within 30 s")

    def open(self) -> None:
        self._client.rpush(self._key, "1")


def noop_rate(stack: WorkerStack) -> float:
    """Bare jobs per second through the worker, queued as the outbox queues its own."""
    client = stack.redis_client()
    queue = stack.queue()
    gate = Gate(queue, client)
    gate.close()
    data = [
        Queue.prepare_data(
            NOOP_JOB,
            job_id=f"bench-noop-{secrets.token_hex(6)}",
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            result_ttl=3600,
            failure_ttl=RETENTION,
        )
        for _ in range(NOOP_JOBS)
    ]
    jobs = queue.enqueue_many(data)
    gate.open()
    first, last = jobs[0], jobs[-1]
    deadline = time.monotonic() + 60
    while last.get_status(refresh=True) != "finished":
        if time.monotonic() > deadline:
            raise RuntimeError("the bare jobs did not finish within 60 s")
        time.sleep(0.05)
    first = Job.fetch(first.id, connection=client)
    last = Job.fetch(last.id, connection=client)
    assert first.started_at is not None
    assert last.started_at is not None
    return (NOOP_JOBS - 1) / (last.started_at - first.started_at).total_seconds()


def _outbox(stack: WorkerStack) -> Outbox:
    return Outbox(stack.redis_client(), stack.queue(), secrets.token_hex(32), RETENTION)


def _number(index: int) -> str:
    return f"+1202{2_000_000 + index:07d}"  # fictional, each its own (no per-number cap)


def text_rate(stack: WorkerStack) -> float:
    """Outbox texts per second through the worker."""
    client = stack.redis_client()
    gate = Gate(stack.queue(), client)
    outbox = _outbox(stack)
    run = secrets.token_hex(4)
    gate.close()
    for index in range(TEXTS):
        outbox.send(_number(index), [BODY], cause=f"bench:{run}:{index}", kind="bench")
    opened = time.time()
    gate.open()
    arrivals = stack.timed()
    last = arrivals.wait_for(MESSAGES_CREATE, opened, count=TEXTS, timeout=60)
    first = arrivals.wait_for(MESSAGES_CREATE, opened)
    return (TEXTS - 1) / (last - first)


def paced_burst(stack: WorkerStack) -> Paced:
    outbox = _outbox(stack)
    run = secrets.token_hex(4)
    began = time.time()
    for index in range(BURST):
        outbox.send(_number(10_000 + index), [BODY], cause=f"bench:{run}:{index}", kind="bench")
    arrivals = stack.timed()
    first = arrivals.wait_for(MESSAGES_CREATE, began, timeout=10)
    time.sleep(max(0.0, first + BURST_SECONDS - time.time()))
    sent = [at for at in arrivals.since(MESSAGES_CREATE, first) if at < first + BURST_SECONDS]
    worst = 0
    start = 0
    # Every one-second window [t, t + 1) that begins at an arrival: the fullest one
    # begins at one, so these are all the windows there are to check.
    for end, at in enumerate(sent):
        while sent[start] <= at - 1.0:
            start += 1
        worst = max(worst, end - start + 1)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    return Paced(len(sent), BURST_SECONDS, worst, min(gaps) * 1000 if gaps else 0.0)


def report(noops: float, texts: float, paced: Paced, seconds: float) -> None:
    ratio = texts / noops
    print()
    print(machine_line(seconds))
    print(
        f"one `helpline worker` (RQ SimpleWorker subclass); {TEXTS} one-text replies, each "
        f"to its own number, queued behind a gate; baseline {NOOP_JOBS} bare jobs the same way"
    )
    print("| figure | value | baseline | ratio | target | |")
    print("|---|---|---|---|---|---|")
    mark = "ok" if ratio >= TARGET_RATIO else "MISSED"
    print(
        f"| outbox texts/s, rate limit off | {texts:,.0f} | {noops:,.0f} bare jobs/s "
        f"| {ratio:.2f} | >= {TARGET_RATIO:g} | {mark} |"
    )
    mark = "ok" if paced.worst_window <= RATE else "MISSED"
    print(
        f"| most texts in any 1 s, limit {RATE}/s | {paced.worst_window} | {RATE} (the limit) "
        f"| {paced.worst_window / RATE:.2f} | <= {RATE} | {mark} |"
    )
    print(
        f"(limit on: {BURST} texts queued at once; {paced.sent} reached the emulator in the "
        f"{paced.seconds:g} s from the first, {paced.sent / paced.seconds:.2f}/s; "
        f"closest two {paced.closest_ms:.0f} ms apart)"
    )


def main() -> None:
    started = time.monotonic()
    print("outbox throughput and rate limit (issue 8, item 3): starting the line", flush=True)
    options = StackOptions(workers=1, sms_segments_per_second=0)
    with WorkerStack(options) as stack:
        stack.start_timed()
        noops = noop_rate(stack)
        texts = text_rate(stack)
        print(f"  limit off: {texts:,.0f} texts/s, {noops:,.0f} bare jobs/s", flush=True)
        stack.replace_worker("worker-paced", {"HELPLINE_SMS_SEGMENTS_PER_SECOND": str(RATE)})
        print(f"  limit {RATE}/s: a {BURST_SECONDS:g} s burst", flush=True)
        paced = paced_burst(stack)
    report(noops, texts, paced, time.monotonic() - started)


if __name__ == "__main__":
    main()
