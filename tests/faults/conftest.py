"""A live line on a Redis of its own, which a fault test may kill, freeze and
bring back without touching the suite's shared Redis; the emulator as Twilio;
and webhooks sent (and sent again) exactly as the emulator sends them."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from flask import Flask
from rq import Worker

from ivr.content.model import Content
from ivr.platform.config import Settings
from ivr.platform.embedded_redis import start_server, wait_until_ready
from tests.conftest import (
    PUBLIC_URL,
    RedisServer,
)
from tests.live import (
    WorkerProcess,
    eventually,
    serving_line,
    worker_environment,
)
from twilio_emulator import Network
from twilio_emulator.webhooks import Delivery

BACKUP = "+12025550199"  # HELPLINE_BACKUP_NUMBER in tests.conftest.make_settings


class DurableRedis(RedisServer):
    """Append-only and fsynced on every write, as production runs it (the
    compose file's AOF): killed and started again, it comes back with its data."""

    def start(self) -> None:
        self.process = start_server(
            self.directory, port=self.port, socket_name="faults.sock",
            extra=("--appendfsync", "always"),
        )  # fmt: skip
        wait_until_ready(self.url, self.process)

    def freeze(self) -> None:
        """SIGSTOP: the server is there and accepts connections, but never
        answers — the harder failure, where only timeouts help."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@dataclass
class PrivateLine:
    server: DurableRedis
    settings: Settings
    content: Content
    network: Network
    tmp_path: Path
    app: Flask
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def redis(self) -> redis.Redis:
        # A test's own client, patient enough for its assertions; a new one each
        # time, so a Redis that was killed is simply connected to again.
        return redis.Redis.from_url(self.server.url, socket_timeout=5)

    def webhook(self, path: str, params: dict[str, str]) -> tuple[Delivery, float]:
        """Sign and deliver one webhook as Twilio would; with its wall-clock time."""
        started = time.monotonic()
        delivery = self.network.webhooks.send(PUBLIC_URL + path, params)
        return delivery, time.monotonic() - started

    def start_worker(self, **extra: str) -> WorkerProcess:
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        worker = WorkerProcess(worker_environment(self.settings, self.tmp_path, **extra), log)
        client = self.redis
        before = len(Worker.all(connection=client))
        worker.start()
        eventually(lambda: len(Worker.all(connection=client)) > before, timeout=30)
        self.workers.append(worker)
        return worker

    def worker_log(self) -> str:
        return "".join(w.log.read_text() for w in self.workers if w.log.exists())


@pytest.fixture
def private_line(
    content: Content, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[PrivateLine]:
    """`@pytest.mark.line_settings(...)` changes the served line's settings."""
    marker = request.node.get_closest_marker("line_settings")
    overrides: dict[str, str] = dict(marker.kwargs) if marker else {}
    server = DurableRedis(tmp_path / "redis")
    server.start()
    try:
        with serving_line(server.url, content, tmp_path, **overrides) as served:
            line = PrivateLine(
                server, served.settings, content, served.network, tmp_path, served.app
            )
            try:
                yield line
            finally:
                with contextlib.suppress(ProcessLookupError, AssertionError):
                    server.thaw()  # a test that failed while Redis was frozen
                served.network.wait_until(served.network.idle, timeout=10)
                for worker in line.workers:
                    worker.stop()
    finally:
        server.stop()


StartWorker = Callable[..., WorkerProcess]
