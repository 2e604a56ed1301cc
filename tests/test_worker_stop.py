"""A worker stops at once, whatever redis-py's listening thread is doing.

RQ listens for its worker commands on a pub/sub thread started with a 60 s
wait, and since redis-py 8.2 a worker's teardown waits for that thread to end.
When the thread had just read the reply to RQ's UNSUBSCRIBE, it went back to
wait for a subscription, for up to 60 s, and the worker with it (issue 13).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import redis
from rq import Queue, Worker

from ivr.jobs import QUEUE_NAME
from ivr.platform.config import Settings
from ivr.processes.worker import LineWorker
from tests.live import WorkerProcess, eventually, worker_environment

# Far under RQ's 60 s wait, and a second above the worker's own bound
# (ivr.processes.worker.COMMAND_POLL_SECONDS): a slow machine does not fail it.
STOPPED_WITHIN = 2.0


def test_a_worker_stops_at_once_when_its_listener_has_read_the_unsubscribe(
    redis_client: redis.Redis,
) -> None:
    """The race, made certain: the listening thread has handled the UNSUBSCRIBE
    reply and waits to be subscribed again before the teardown stops it."""
    worker = LineWorker([Queue(QUEUE_NAME, connection=redis_client)], connection=redis_client)
    worker.subscribe()
    pubsub = worker.pubsub
    assert pubsub is not None
    eventually(lambda: pubsub.subscribed)
    pubsub.unsubscribe()  # type: ignore[no-untyped-call]
    eventually(lambda: not pubsub.subscribed)  # the thread read the reply
    time.sleep(0.2)  # and is back in get_message, waiting for a subscription

    stopped = threading.Event()

    def teardown() -> None:  # what RQ's Worker.teardown ends with
        worker.unsubscribe()  # type: ignore[no-untyped-call]
        stopped.set()

    unsubscribing = threading.Thread(target=teardown, daemon=True)
    started = time.monotonic()
    unsubscribing.start()
    returned = stopped.wait(STOPPED_WITHIN)
    took = time.monotonic() - started

    assert returned, f"the worker's teardown still waited after {took:.1f} s"
    assert worker.pubsub_thread is not None
    assert not worker.pubsub_thread.is_alive()


def test_a_burst_worker_returns_as_soon_as_the_queue_is_empty(
    redis_client: redis.Redis,
) -> None:
    """What the tests' job runner and `helpline worker --burst` do, many times
    over: each run ends with the same teardown."""
    queue = Queue(QUEUE_NAME, connection=redis_client)
    slowest = 0.0
    for _ in range(20):
        started = time.monotonic()
        LineWorker([queue], connection=redis_client).work(burst=True)
        slowest = max(slowest, time.monotonic() - started)
    assert slowest < STOPPED_WITHIN, f"a burst worker took {slowest:.1f} s to return"


def test_helpline_worker_exits_soon_after_sigterm(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """A real `helpline worker`, with RQ's scheduler beside it, stopped as a
    supervisor stops it: gone within seconds, and no longer registered."""
    worker = WorkerProcess(worker_environment(settings, tmp_path), tmp_path / "worker.log")
    before = len(Worker.all(connection=redis_client))
    worker.start()
    try:
        eventually(lambda: len(Worker.all(connection=redis_client)) > before, timeout=30)
        assert worker.process is not None
        time.sleep(1.0)  # idle: the listening thread is waiting for a command
        started = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        worker.process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        worker.stop()
    assert worker.process.returncode == 0, worker.log.read_text()
    # RQ's own stop: the scheduler process is ended and joined first.
    assert took < 5.0, f"`helpline worker` took {took:.1f} s to stop after SIGTERM"
    assert len(Worker.all(connection=redis_client)) == before
