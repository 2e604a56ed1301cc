"""A worker's stop and restart (issue 13, item 2).

The line as production runs it (bench.line.WorkerStack: a private Redis, the
emulator, `helpline serve`), and worker processes started and stopped one at
a time, as a supervisor does:

- start: from spawning the process to its registration in Redis (RQ's
  `Worker.all`), when it takes jobs;
- stop: from SIGTERM to the process's exit, after a random idle spell
  (0.2-1.5 s), so the stop lands at every point of the listening thread's wait;
- back after a Redis outage: Redis SIGKILLed with the worker idle, started
  again 2 s later from its append-only file, then a bare job queued as soon as
  Redis answers; the figure is from Redis answering to the job's first line.

The baseline, trial by trial in the same run: RQ's own `rq worker` (SimpleWorker
and scheduler, as `helpline worker` runs them) on the same queue. RQ's worker
quits on a Redis error, so it has no restart figure; that is what `helpline
worker` adds (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rq import Queue, Worker

from bench.jobs import STAMP_JOB
from bench.line import WorkerStack
from bench.machine import machine_line
from ivr.jobs import QUEUE_NAME
from ivr.platform.embedded_redis import start_server, wait_until_ready
from loadtest.stack import StackOptions

TRIALS = 12
OUTAGES = 5
OUTAGE_SECONDS = 2.0


def spawn(stack: WorkerStack, command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - our own console scripts
            command,
            env=stack.environment(),
            cwd=stack.directory,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def registered(stack: WorkerStack, pid: int, timeout: float = 60.0) -> None:
    client = stack.redis_client()
    deadline = time.monotonic() + timeout
    while not any(w.pid == pid for w in Worker.all(connection=client)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker {pid} did not register within {timeout:.0f} s")
        time.sleep(0.01)


def start_and_stop(stack: WorkerStack, command: list[str], log: Path) -> tuple[float, float]:
    started = time.monotonic()
    process = spawn(stack, command, log)
    registered(stack, process.pid)
    start = time.monotonic() - started
    time.sleep(random.uniform(0.2, 1.5))  # where in the listening thread's wait the stop lands
    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
        return start, time.monotonic() - stopping
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its session is left


def back_after_outage(stack: WorkerStack) -> float:
    """Redis killed under an idle `helpline worker` and started again: seconds
    from Redis answering to a new job's first line."""
    assert stack.redis_process is not None
    stack.redis_process.kill()
    stack.redis_process.wait(timeout=10)
    time.sleep(OUTAGE_SECONDS)
    redis_dir = stack.directory / "redis"
    stack.redis_process = start_server(redis_dir, port=0, socket_name="redis.sock")
    wait_until_ready(stack.redis_url, stack.redis_process)
    answered = time.time()
    client = stack.redis_client()
    key = f"bench:outage:{answered}"
    Queue(QUEUE_NAME, connection=client).enqueue(STAMP_JOB, key, at_front=True)
    popped = client.blpop([key], timeout=120)
    if popped is None:
        raise RuntimeError("the worker never ran a job after Redis came back")
    return float(popped[1]) - answered


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    return (
        f"{name}: p50 {statistics.median(ordered):.2f} s, max {ordered[-1]:.2f} s "
        f"({len(ordered)} trials)"
    )


def main() -> None:
    began = time.monotonic()
    helpline = [str(Path(sys.executable).with_name("helpline")), "worker"]
    # The stack comes up healthy only with a worker beside it; that one is
    # stopped before the trials, which start and stop their own.
    with WorkerStack(StackOptions(workers=1, web_processes=1, web_threads=2)) as stack:
        stack.start_timed()
        for child in stack.children:
            if child.name.startswith("worker"):
                child.stop()
        rq = [
            str(Path(sys.executable).with_name("rq")),
            "worker",
            "--worker-class",
            "rq.worker.SimpleWorker",
            "--with-scheduler",
            "--url",
            stack.redis_url,
            QUEUE_NAME,
        ]
        ours: list[tuple[float, float]] = []
        baseline: list[tuple[float, float]] = []
        for trial in range(TRIALS):
            ours.append(start_and_stop(stack, helpline, stack.directory / f"helpline-{trial}.log"))
            baseline.append(start_and_stop(stack, rq, stack.directory / f"rq-{trial}.log"))
        worker = spawn(stack, helpline, stack.directory / "helpline-outage.log")
        registered(stack, worker.pid)
        backs = [back_after_outage(stack) for _ in range(OUTAGES)]
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)

    print(machine_line(time.monotonic() - began))
    for name, rows in (("helpline worker", ours), ("rq worker (baseline)", baseline)):
        print(summary(f"{name} start to registered", [start for start, _ in rows]))
        print(summary(f"{name} SIGTERM to exit", [stop for _, stop in rows]))
    ratio = statistics.median(s for _, s in ours) / statistics.median(s for _, s in baseline)
    print(f"stop, p50 ratio helpline/rq: {ratio:.2f}")
    print(summary(f"helpline worker back after a {OUTAGE_SECONDS:.0f} s Redis outage", backs))


if __name__ == "__main__":
    main()
