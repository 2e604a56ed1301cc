"""The line and the emulator, each served for real and pointed at the other,
and a way to run the queued jobs against them: for end-to-end tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from werkzeug.serving import make_server

from ivr import create_app
from ivr.config import Settings
from ivr.content.model import Content
from ivr.emulator import EmulatorServer, Network, create_emulator
from ivr.extension import QUEUE_NAME
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    RedisServer,
    free_port,
    make_settings,
)
from workers.context import JobContext, install

LINE_NUMBER = "+18885550100"
WAIT = 10.0


@dataclass
class LiveLine:
    settings: Settings
    content: Content
    redis: redis.Redis
    network: Network
    emulator_url: str

    def run_jobs(self, rounds: int = 8) -> None:
        """Run every job queued now, and those they queue; RQ's scheduled
        retries are brought forward, so backoff costs the test no time."""
        install(JobContext(self.settings, self.content, self.redis))
        queue = Queue(QUEUE_NAME, connection=self.redis)
        scheduled = ScheduledJobRegistry(queue=queue)
        try:
            for _ in range(rounds):
                SimpleWorker([queue], connection=self.redis).work(burst=True)
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


@pytest.fixture
def live_line(
    redis_server: RedisServer, redis_client: redis.Redis, content: Content, tmp_path: Path
) -> Iterator[LiveLine]:
    line_port = free_port()
    emulator_app = create_emulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        f"http://127.0.0.1:{line_port}",
        LINE_NUMBER,
        public_url=PUBLIC_URL,
        webhook_timeout=5.0,
    )
    with EmulatorServer(emulator_app) as emulator:
        settings = make_settings(redis_server.url, tmp_path, HELPLINE_TWILIO_API_URL=emulator.url)
        server = make_server("127.0.0.1", line_port, create_app(settings, content), threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield LiveLine(settings, content, redis_client, emulator.network, emulator.url)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()
