"""`helpline worker`: an RQ worker for the line's jobs, plus a sweeper.

A SimpleWorker runs jobs in its own process (no fork per job): the line's
jobs are short and I/O-bound, and a caller waits on some of them. The sweeper
thread notices, within seconds, a batch whose worker died mid-job (its lease
ran out) and queues it again — RQ alone would notice only after minutes.

A Redis outage must not need anyone to restart the worker (docs/reliability.md):
RQ's worker quits when Redis fails it in the middle of a job, and its scheduler
process (which queues the retries that are due) dies at the first Redis error
and is restarted by RQ only at its ten-minute maintenance. So the worker is
started again when it quits without being asked to, and the sweeper starts the
scheduler again as soon as Redis answers.
"""

from __future__ import annotations

import logging
import threading
from contextlib import suppress
from types import FrameType

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler
from rq.worker import WorkerStatus

from ivr.callbacks.returning import ReturnCalls
from ivr.callbacks.urgent import UrgentItems
from ivr.jobs import QUEUE_NAME, Jobs
from ivr.platform import heartbeat
from ivr.platform.config import Settings
from ivr.platform.redis_store import redis_url
from ivr.routing.dispatches import Dispatches
from ivr.routing.hold_queues import sweep_due
from ivr.sms.outbox import Outbox
from ivr.threads.store import Threads

log = logging.getLogger("helpline.worker")
SWEEP_SECONDS = 2.0
RESTART_SECONDS = 1.0  # between a worker that quit on a Redis error and the next
# RQ's wait between attempts to reach Redis doubles up to 60 s: a short outage
# would keep a worker idle for as long again after Redis is back.
RECONNECT_SECONDS_AT_MOST = 4.0
# How long the thread that listens for RQ's worker commands waits for a message
# before it looks again whether it should stop. RQ asks for 60 s, and since
# redis-py 8.2 a worker's teardown waits for that thread: a worker that caught
# the thread between the unsubscribe reply and the stop sat there up to 60 s
# (issue 13: `make test` 5 min 46 s -> 11 min 56 s). Each wake-up is a local
# socket poll, no Redis command.
COMMAND_POLL_SECONDS = 0.5


class LineWorker(SimpleWorker):
    """RQ's SimpleWorker, remembering that it was asked to stop (RQ itself notes
    a stop only when it comes in the middle of a job), and stopping in well
    under a second whatever redis-py's listening thread does."""

    stopping: threading.Event | None = None

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping is not None:
            self.stopping.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def subscribe(self) -> None:
        """RQ's own subscription to its command channel (`rq.command`), with a
        listening thread that notices a stop within COMMAND_POLL_SECONDS."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        # RQ annotates the attribute as None, the value it starts with.
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=COMMAND_POLL_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class _Current:
    """The RQ worker running now (it is replaced if it quits on a Redis error)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the sweeper never revives a replaced worker's scheduler
        self.worker: SimpleWorker | None = None


def sweep_forever(
    outbox: Outbox,
    dispatches: Dispatches,
    queue: Queue,
    stop: threading.Event,
    current: _Current | None = None,
) -> None:
    """Work whose worker died: outbox batches whose lease ran out, callers
    whose counselor ring is overdue, callbacks whose ring was cut short; and
    urgent work whose deadline passed unclaimed (its ladder's next step);
    text conversations' deadlines (an unanswered crisis, a silent texter, a
    counselor's message never handed to the outbox).
    Found within seconds, not RQ's minutes. And, every few minutes, a sweep
    of the Twilio queues callers left behind, and a recount of the last
    day's contacts into the reports' tallies."""
    jobs = Jobs(queue)
    # Only its deadlines are read here: no setting of the store matters.
    threads = Threads(queue.connection, "", 0)
    while not stop.wait(SWEEP_SECONDS):
        try:
            heartbeat.beat(queue.connection)  # what /healthz counts as a live worker
            outbox.requeue_abandoned()
            for dispatch_id in dispatches.due():
                jobs.ring(dispatch_id)
            for reference in UrgentItems(queue.connection, 0).due():
                jobs.escalate(reference)
            # Taken with a lease: one job each, not one every sweep.
            for thread_id in threads.take_crisis_due():
                jobs.answer_unanswered_crisis(thread_id)
            for thread_id in threads.take_quiet_due():
                jobs.close_quiet_conversation(thread_id)
            for thread_id, seq in threads.take_unsent_due():
                jobs.send_conversation_message(thread_id, seq)
            for reference, counselor_id in ReturnCalls(queue.connection).due_connects():
                log.warning("callback %s: its ring stopped midway; trying again", reference)
                jobs.connect_callback(reference, counselor_id)
            if sweep_due(queue.connection):  # one worker of many, every few minutes
                jobs.sweep_queues()
                jobs.recount_contacts()
            if current is not None:
                with current.lock:
                    if current.worker is not None:
                        keep_scheduler(current.worker)
        except redis.RedisError:
            log.warning("sweeper: Redis unavailable; trying again")
    with suppress(redis.RedisError):
        heartbeat.forget(queue.connection)  # stopping: not alive from now on


def keep_scheduler(worker: SimpleWorker) -> None:
    """Start RQ's scheduler again if its process died (a Redis outage kills it),
    or take up the scheduling if a dead scheduler's lock kept it from starting."""
    scheduler = worker.scheduler
    # Only once the worker is past starting its scheduler (it is idle or busy):
    # never a second scheduler process beside the one it is starting now; and
    # never once it is stopping (a scheduler started then keeps it from exiting).
    stopping = getattr(worker, "stopping", None)
    if stopping is not None and stopping.is_set():
        return
    if scheduler is None or worker.get_state() not in (WorkerStatus.IDLE, WorkerStatus.BUSY):
        return
    process = getattr(scheduler, "_process", None)  # RQ types it as None only
    if process is not None and process.is_alive():
        return
    # Another worker's live scheduler keeps its lock, and this one stays down.
    if scheduler.acquire_locks(auto_start=True):  # type: ignore[no-untyped-call]
        log.info("RQ's scheduler was down; started again")


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    # Jobs may wait on Twilio for seconds: no short socket timeout here.
    connection = redis.Redis.from_url(redis_url(settings))
    queue = Queue(QUEUE_NAME, connection=connection)
    stop = threading.Event()
    current = _Current()
    sweeper: threading.Thread | None = None
    if not burst:
        retention = settings.retention_seconds
        outbox = Outbox(connection, queue, settings.secret_key, retention)
        dispatches = Dispatches(connection, retention)
        sweeper = threading.Thread(
            target=sweep_forever,
            args=(outbox, dispatches, queue, stop, current),
            name="sweeper",
            daemon=True,
        )
        sweeper.start()
    stopping = threading.Event()
    stale: list[RQScheduler] = []
    try:
        while not stopping.is_set():
            # A stopped scheduler's lock, if Redis was down to release it, would
            # keep the next worker's scheduler from starting until it expired.
            stale[:] = [s for s in stale if not _released(s)]
            worker: LineWorker | None = None
            try:
                worker = LineWorker([queue], connection=connection)  # asks Redis too
                worker.stopping = stopping
                worker.max_connection_wait_time = RECONNECT_SECONDS_AT_MOST
                with current.lock:
                    current.worker = worker
                worker.work(with_scheduler=True, burst=burst)
            except redis.RedisError as error:
                log.error("worker stopped by Redis (%s)", type(error).__name__)
            if burst or stopping.is_set():
                return
            log.warning("the worker quit on an error; starting again")
            with current.lock:
                current.worker = None
            if worker is not None:
                _stop_scheduler(worker)
                if worker.scheduler is not None:
                    stale.append(worker.scheduler)
            try:
                stopping.wait(RESTART_SECONDS)
            except (StopRequested, redis.RedisError):
                return  # SIGTERM now: the last worker's handler says so
    finally:
        stop.set()
        if sweeper is not None:
            sweeper.join(timeout=SWEEP_SECONDS + 5)
        with current.lock:
            last = current.worker
        if last is not None:
            _stop_scheduler(last)  # one the sweeper may have started as the stop came


def _stop_scheduler(worker: SimpleWorker) -> None:
    """What RQ's own teardown does, when a Redis error cut that short: stop its
    scheduler process and the thread listening for its commands."""
    process = getattr(worker.scheduler, "_process", None)  # RQ types it as None only
    if process is not None and process.is_alive():  # never signal a reaped pid
        with suppress(OSError, ValueError, AssertionError):
            worker.stop_scheduler()  # type: ignore[no-untyped-call]
    listening = getattr(worker, "pubsub_thread", None)
    if listening is not None:
        listening.stop()


def _released(scheduler: RQScheduler) -> bool:
    """Release a stopped scheduler's lock (only if it still holds it)."""
    try:
        scheduler.release_locks()  # type: ignore[no-untyped-call]
    except redis.RedisError:
        return False
    return True
