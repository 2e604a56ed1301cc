"""The line and the emulator, each served for real and pointed at the other,
and a way to run the queued jobs against them: for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from ivr.line import Line
from ivr.platform.config import Settings
from ivr.processes.worker import LineWorker
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    RedisServer,
    make_settings,
)
from twilio_emulator import EmulatorServer, Network, create_emulator, press
from twilio_emulator.interactive import InteractivePhone
from twilio_emulator.records import CallRecord
from workers.context import install

LINE_NUMBER = "+18885550100"
WAIT = 10.0


class InFlight:
    """WSGI middleware that counts the requests being handled right now."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.active = 0
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._lock:
            self.active += 1
        try:
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self.active -= 1


@dataclass
class LiveLine:
    settings: Settings
    content: Content
    redis: redis.Redis
    network: Network
    emulator_url: str
    line_url: str = ""  # where the line listens (a browser test opens its pages there)

    def run_jobs(self, rounds: int = 8) -> None:
        """Run every job queued now, and those they queue; RQ's scheduled
        retries are brought forward, so backoff costs the test no time."""
        install(Line(self.settings, self.content, self.redis))
        queue = Queue(QUEUE_NAME, connection=self.redis)
        # rq's registry __init__ has no return annotation, so mypy calls it untyped.
        scheduled = ScheduledJobRegistry(queue=queue)  # type: ignore[no-untyped-call]
        try:
            for _ in range(rounds):
                # The line's own worker class: it stops at once (tests/test_worker_stop.py).
                LineWorker([queue], connection=self.redis).work(burst=True)
                waiting = scheduled.get_job_ids()
                if not waiting:
                    return
                for job_id in waiting:
                    scheduled.remove(job_id)
                    queue.enqueue_job(queue.fetch_job(job_id))  # type: ignore[arg-type]
        finally:
            install(None)


def eventually(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll until `check()` is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {check}")
        time.sleep(0.02)


def wait_for_prompt(phone: InteractivePhone, after: int = 0, timeout: float = 15.0) -> int:
    """Block until the phone's call waits for the person; the next cursor."""
    cursor = after
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = phone.events(cursor, wait=0.5)
        cursor = answer["next"]
        if answer["waiting_for"] is not None:
            return int(cursor)
    raise AssertionError(f"the call asked the caller for nothing in {timeout} s")


def caller_on_hold(network: Network, number: str) -> tuple[InteractivePhone, CallRecord]:
    """A caller played by the test: 1 at the main menu for a counselor, then on
    hold until the test hangs up for them (`phone.push({"hangup": True})`). A
    scripted `give_up(seconds)` races the worker: on a loaded CI machine the
    worker had not yet rung anyone 1.5 s after the caller was put on hold."""
    phone = network.interactive(number)
    call = network.call_line(number)
    wait_for_prompt(phone)
    phone.push({"digits": "1"})
    return phone, call


@pytest.fixture
def live_line(
    redis_server: RedisServer,
    redis_client: redis.Redis,
    content: Content,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[LiveLine]:
    """`@pytest.mark.line_settings(HELPLINE_RING_SECONDS="5")` changes its settings."""
    marker = request.node.get_closest_marker("line_settings")
    overrides: dict[str, str] = dict(marker.kwargs) if marker else {}
    with serving_line(redis_server.url, content, tmp_path, **overrides) as served:
        yield LiveLine(
            served.settings,
            content,
            redis_client,
            served.network,
            served.emulator_url,
            served.line_url,
        )
        # Whatever the test looked at, no document the line sent on any leg
        # had a value Twilio would have warned about or refused.
        assert served.network.value_problems == []


@dataclass
class ServedLine:
    settings: Settings
    app: Flask
    network: Network
    emulator_url: str
    line_url: str


@contextlib.contextmanager
def serving_line(
    redis_url: str, content: Content, tmp_path: Path, **overrides: str
) -> Iterator[ServedLine]:
    """The line served on a free port, and the emulator pointed at it (and it
    at the emulator), on the given Redis; stopped only when both are done."""
    # The line's socket is bound first, on a port the kernel picks, and only then is
    # its port handed to the emulator: a port probed free and bound later can be
    # taken in between (the emulator's own server once drew the same one).
    app = InFlight(None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    line_port = server.server_port
    try:
        emulator_app = create_emulator(
            ACCOUNT_SID,
            AUTH_TOKEN,
            f"http://127.0.0.1:{line_port}",
            LINE_NUMBER,
            public_url=PUBLIC_URL,
            webhook_timeout=5.0,
        )
        with EmulatorServer(emulator_app) as emulator:
            settings = make_settings(
                redis_url, tmp_path, HELPLINE_TWILIO_API_URL=emulator.url, **overrides
            )
            flask_app = create_app(settings, content)
            app.app = flask_app
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            try:
                line_url = f"http://127.0.0.1:{line_port}"
                yield ServedLine(settings, flask_app, emulator.network, emulator.url, line_url)
            finally:
                # Let the phone network finish what it started (late callbacks,
                # hang-ups) and the line finish every request it took: nothing may
                # write into the next test's Redis.
                emulator.network.wait_until(emulator.network.idle, timeout=10)
                server.shutdown()
                thread.join(timeout=5)
                eventually(lambda: app.active == 0, timeout=10)
    finally:
        server.server_close()


def worker_environment(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a `helpline worker` process needs to serve this line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "TWILIO_"))}
    env.update(
        {
            "REDIS_URL": settings.redis_url or "",
            "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
            "HELPLINE_TWILIO_API_URL": settings.twilio_api_url or "",
            "HELPLINE_PUBLIC_URL": settings.public_url,
            "HELPLINE_SECRET_KEY": settings.secret_key,
            "HELPLINE_NUMBER": settings.line_number,
            "HELPLINE_BACKUP_NUMBER": settings.backup_number,
            "HELPLINE_VAR_DIR": str(tmp_path / "worker-var"),
            **extra,
        }
    )
    return env


class WorkerProcess:
    """A real `helpline worker`, as production runs it, which a test may kill."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log  # what the worker printed: read it when a test fails
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("helpline")), "worker"],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: RQ's scheduler runs in a child process, which
                # must die with the worker (a supervisor kills the group the same way).
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL, the worker and its scheduler child: as when a machine dies."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group is left
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(live_line: LiveLine, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """`start_worker(HELPLINE_RING_STRATEGY="simultaneous")`: a worker for the live line."""
    started: list[WorkerProcess] = []

    def start(**extra: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(worker_environment(live_line.settings, tmp_path, **extra), log)
        before = len(Worker.all(connection=live_line.redis))
        worker.start()
        # Ready when it has registered with Redis: jobs queued from now on are taken at once.
        eventually(lambda: len(Worker.all(connection=live_line.redis)) > before, timeout=30)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# Nobody on call: 1 for the other choices, 1 for a message, 1 to be called back
# at the number calling (tests/test_callback_consent.py); then the message.
MESSAGE_TO_CALL_BACK = (press("1"), press("1"), press("1"))
