"""Playing the scenario against the running line: callers placed at their
moments, texters texting (each person's texts one after another, many people
at once), a sampler counting calls in progress — then waiting, within the
run's time budget, until the line has finished everything it was asked."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from ivr.jobs import QUEUE_NAME
from ivr.sms.outbox import LEASES
from loadtest.scenario import Caller, Scenario, Texter
from loadtest.stack import BACKUP_NUMBER
from twilio_emulator import Network, script

QUIET_SECONDS = 3.0  # after the line looks done: late (duplicate) texts would show by then


@dataclass(frozen=True)
class TextSent:
    number: str
    body: str
    at: float  # when it was sent to the line (epoch seconds)
    status: int | None
    error: str | None
    seconds: float


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the start
    calls: int  # callers' calls in progress
    menu: int  # of them, callers walking the menu
    waiting: int  # callers in a queue for a counselor
    counselor_legs: int  # counselor calls in progress
    jobs_queued: int


@dataclass
class Played:
    started: float = 0.0  # time.time() at the start of the traffic
    traffic_seconds: float = 0.0  # until the last caller was placed and the last text answered
    done_seconds: float = 0.0  # until everything was finished (or the budget ran out)
    finished: bool = False  # False: the budget ran out first
    leftovers: list[str] = field(default_factory=list)  # what was not finished, if anything
    calls: dict[str, Caller] = field(default_factory=dict)  # CallSid -> who placed it
    texts: list[TextSent] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


class Driver:
    def __init__(
        self,
        network: Network,
        client: redis.Redis,
        scenario: Scenario,
        *,
        text_concurrency: int,
    ) -> None:
        self.network = network
        self.redis = client
        self.scenario = scenario
        self.text_concurrency = text_concurrency
        self.played = Played()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._queue = Queue(QUEUE_NAME, connection=client)

    # -- traffic ------------------------------------------------------------------------

    def _place_calls(self) -> None:
        for caller in self.scenario.callers:
            self._sleep_until(caller.start_at)
            record = self.network.call_line(caller.number, script_=script(steps=caller.steps))
            with self._lock:
                self.played.calls[record.sid] = caller

    def _text(self, person: Texter) -> None:
        self._sleep_until(person.start_at)
        for number, body in enumerate(person.bodies):
            if number:
                time.sleep(person.pause)
            at = time.time()
            inbound = self.network.text_line(person.number, body)
            delivery = inbound.delivery
            sent = TextSent(
                person.number, body, at, delivery.status, delivery.error, delivery.seconds or 0.0
            )
            with self._lock:
                self.played.texts.append(sent)

    def _sleep_until(self, offset: float) -> None:
        delay = self.played.started + offset - time.time()
        if delay > 0:
            time.sleep(delay)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                walking = {sid for sid, c in self.played.calls.items() if not c.waits_for_counselor}
            with self.network.lock:
                live = [c for c in self.network.calls.values() if not c.finished]
            callers = sum(1 for c in live if c.direction == "inbound")
            menu = sum(1 for c in live if c.sid in walking)
            waiting = sum(1 for c in live if c.direction == "inbound" and c.activity == "queued")
            counselors = sum(1 for c in live if c.direction == "outbound-api")
            try:
                jobs = self._queue.count
            except redis.RedisError:
                jobs = -1
            self.played.samples.append(
                Sample(time.time() - self.played.started, callers, menu, waiting, counselors, jobs)
            )

    # -- the run --------------------------------------------------------------------------

    def run(self, budget_seconds: float) -> Played:
        network = self.network
        for counselor in self.scenario.counselors:
            network.phones.set(counselor.number, counselor.script)
        network.phones.set(BACKUP_NUMBER, self.scenario.backup_script)
        deadline = time.monotonic() + budget_seconds
        self.played.started = time.time()
        sampler = threading.Thread(target=self._sample, name="loadtest-sampler", daemon=True)
        sampler.start()
        placing = threading.Thread(target=self._place_calls, name="loadtest-calls")
        placing.start()
        with ThreadPoolExecutor(self.text_concurrency, thread_name_prefix="loadtest-text") as pool:
            for future in [pool.submit(self._text, person) for person in self.scenario.texters]:
                future.result()
        placing.join()
        self.played.traffic_seconds = time.time() - self.played.started
        try:
            self.played.finished = self._wait_until_done(deadline)
        finally:
            self.played.done_seconds = time.time() - self.played.started
            self._stop.set()
            sampler.join(timeout=2)
        return self.played

    def _leftovers(self) -> list[str]:
        """What the line (or the network) has not finished yet; empty when done."""
        network = self.network
        found = []
        with network.lock:
            live = sum(1 for c in network.calls.values() if not c.finished)
        if live:
            found.append(f"{live} call leg(s) in progress")
        if not network.idle():
            found.append("emulator background work (calls, delivery reports) running")
        queued = self._queue.count
        if queued:
            found.append(f"{queued} job(s) queued")
        started = StartedJobRegistry(queue=self._queue).count
        if started:
            found.append(f"{started} job(s) running")
        scheduled = ScheduledJobRegistry(queue=self._queue).count  # type: ignore[no-untyped-call]
        if scheduled:
            found.append(f"{scheduled} job(s) waiting for a retry")
        batches = self.redis.zcard(LEASES)
        if batches:
            found.append(f"{batches} outbox batch(es) not finished")
        return found

    def _wait_until_done(self, deadline: float) -> bool:
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            leftovers = self._leftovers()
            if leftovers:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_SECONDS:
                return True
            time.sleep(0.25)
        self.played.leftovers = self._leftovers()
        return not self.played.leftovers
