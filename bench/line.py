"""The line with its worker, for the worker benchmarks (ring, outbox):
loadtest's Stack (private Redis, gunicorn `helpline serve`, `helpline worker`,
the emulator in this process), with the project on the worker's PYTHONPATH
(for bench.jobs' baseline jobs) and the emulator's REST requests timestamped
as they arrive, before Flask routes them."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import redis
import requests
from rq import Queue, Worker
from twilio.request_validator import RequestValidator

from ivr.jobs import QUEUE_NAME
from ivr.platform.config import PROJECT_ROOT
from loadtest.stack import START_SECONDS, Stack


class Arrivals:
    """WSGI middleware in front of the emulator: the moment (time.time(), the
    clock the worker's jobs stamp with too) each POST reached it, and its path.
    Flask's own after_request log is written after the request is handled."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._changed = threading.Condition()
        self.posts: list[tuple[float, str]] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        at = time.time()
        if environ.get("REQUEST_METHOD") == "POST":
            with self._changed:
                self.posts.append((at, str(environ.get("PATH_INFO", ""))))
                self._changed.notify_all()
        return self._app(environ, start_response)

    def since(self, path: re.Pattern[str], after: float) -> list[float]:
        """When each POST to a path matching `path` arrived, from `after` on."""
        with self._changed:
            return [at for at, seen in self.posts if at >= after and path.search(seen)]

    def wait_for(
        self, path: re.Pattern[str], after: float, count: int = 1, timeout: float = 5.0
    ) -> float:
        """The arrival of the `count`th POST to a path matching `path` since
        `after`; raises if it does not come in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [at for at, seen in self.posts if at >= after and path.search(seen)]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(found)} of {count} POST {path.pattern} in {timeout:g} s"
                    )
                self._changed.wait(left)

    def forget(self) -> None:
        with self._changed:
            self.posts.clear()


@dataclass
class WorkerStack(Stack):
    """The Stack, plus `arrivals` and worker processes with their own settings."""

    arrivals: Arrivals | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.update(self.extra_env)
        return env

    def start_timed(self, prepare: Callable[[redis.Redis], None] | None = None) -> WorkerStack:
        # Werkzeug's line per request would bury the figures (and cost the emulator time).
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.start(prepare or (lambda _client: None))
        assert self.emulator is not None
        app = self.emulator.app
        self.arrivals = Arrivals(app.wsgi_app)
        app.wsgi_app = self.arrivals  # type: ignore[method-assign]
        return self

    def __enter__(self) -> WorkerStack:
        return self

    def timed(self) -> Arrivals:
        assert self.arrivals is not None
        return self.arrivals

    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis_client())

    def replace_worker(self, name: str, overrides: dict[str, str]) -> None:
        """Stop every worker and start one more, with `overrides` in its settings."""
        client = self.redis_client()
        for child in self.children:
            if child.name.startswith("worker"):
                child.stop()
        env = self.environment()
        env.update(overrides)
        self._spawn(name, [str(Path(sys.executable).with_name("helpline")), "worker"], env)
        pid = self.children[-1].process.pid
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if any(w.pid == pid for w in Worker.all(connection=client)):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not come up within {START_SECONDS:.0f} s")


CALLS_CREATE = re.compile(r"/Calls\.json$")
CALL_UPDATE = re.compile(r"/Calls/CA[0-9a-f]+\.json$")
MESSAGES_CREATE = re.compile(r"/Messages\.json$")


class Caller:
    """Posts to the line's webhooks as Twilio would: form-encoded and signed."""

    def __init__(self, stack: Stack) -> None:
        self._base = stack.line_url
        self._validator = RequestValidator(stack.auth_token)
        self._session = requests.Session()

    def post(self, path: str, params: dict[str, str]) -> requests.Response:
        url = self._base + path
        signature = self._validator.compute_signature(url, params)
        response = self._session.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        response.raise_for_status()
        return response
