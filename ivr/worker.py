"""`helpline worker`: an RQ worker for the line's jobs, plus a sweeper.

A SimpleWorker runs jobs in its own process (no fork per job): the line's
jobs are short and I/O-bound, and a caller waits on some of them. The sweeper
thread notices, within seconds, a batch whose worker died mid-job (its lease
ran out) and queues it again — RQ alone would notice only after minutes.
"""

from __future__ import annotations

import logging
import threading

import redis
from rq import Queue, SimpleWorker

from ivr.config import Settings
from ivr.extension import QUEUE_NAME
from ivr.outbox import Outbox
from ivr.redis_store import redis_url
from ivr.routing.dispatches import Dispatches
from ivr.routing.holding import RING_JOB

log = logging.getLogger("helpline.worker")
SWEEP_SECONDS = 2.0


def sweep_forever(
    outbox: Outbox, dispatches: Dispatches, queue: Queue, stop: threading.Event
) -> None:
    """Work whose worker died: outbox batches whose lease ran out, and callers
    whose counselor ring is overdue. Found within seconds, not RQ's minutes."""
    while not stop.wait(SWEEP_SECONDS):
        try:
            outbox.requeue_abandoned()
            for dispatch_id in dispatches.due():
                queue.enqueue(RING_JOB, dispatch_id, result_ttl=600, at_front=True)
        except redis.RedisError:
            log.warning("sweeper: Redis unavailable; trying again")


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    # Jobs may wait on Twilio for seconds: no short socket timeout here.
    connection = redis.Redis.from_url(redis_url(settings))
    queue = Queue(QUEUE_NAME, connection=connection)
    stop = threading.Event()
    if not burst:
        retention = settings.retention_days * 86400
        outbox = Outbox(connection, queue, settings.secret_key, retention)
        dispatches = Dispatches(connection, retention)
        threading.Thread(
            target=sweep_forever,
            args=(outbox, dispatches, queue, stop),
            name="sweeper",
            daemon=True,
        ).start()
    try:
        SimpleWorker([queue], connection=connection).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
