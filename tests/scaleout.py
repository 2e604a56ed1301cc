"""The line scaled out on loopback, for tests/test_scaleout.py: two `helpline
serve` services (two gunicorn masters on two ports, as two hosts would run
them), N `helpline worker` processes, one private Redis, and a round-robin
reverse proxy at the public URL standing in for the load balancer. Built on
loadtest's Stack (its Redis, emulator, environment and process handling);
`make loadtest` is unchanged."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import redis
import requests
from rq import Worker

from ivr.platform.embedded_redis import start_server, wait_until_ready
from loadtest.ports import free_port
from loadtest.stack import LINE_NUMBER, START_SECONDS, Stack
from twilio_emulator import EmulatorServer, create_emulator

# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, never forwarded.
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade")
)
FORWARD_TIMEOUT = 20.0  # past the emulator's 15 s webhook timeout: the emulator gives up first


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy passed on: to which web, for which call."""

    port: int
    path: str
    call_sid: str  # "" when the request carried none (texts, status of messages)
    status: int


class RoundRobinProxy:
    """A load balancer in miniature: each request goes to the next web in turn;
    a web that refuses the connection (it is gone) is skipped for the next one,
    as a balancer's health check would. A request cut off after it was sent is
    answered 502 and not tried again (a POST may have been acted on: the
    balancers' default, e.g. nginx's `proxy_next_upstream` for non-idempotent
    methods)."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.forwarded: list[Forwarded] = []
        self.refused: Counter[int] = Counter()
        self.failed: Counter[int] = Counter()  # cut off mid-request: answered 502
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._last_port: dict[str, int] = {}  # CallSid -> the web its last webhook went to
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: no keep-alive to manage

            def do_GET(self) -> None:
                proxy.forward(self)

            def do_POST(self) -> None:
                proxy.forward(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the webs' access logs and `forwarded` tell what happened

        # Port 0: bound now, so nothing can take the port between choosing and binding.
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=5)
        self.server.server_close()

    def served(self) -> Counter[int]:
        with self._lock:
            return Counter(f.port for f in self.forwarded)

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        call_sid = ""
        if "form-urlencoded" in handler.headers.get("Content-Type", ""):
            call_sid = parse_qs(body.decode("latin-1")).get("CallSid", [""])[0]
        ports = list(self.ports)
        with self._lock:
            # One call's webhooks go to each web in turn (its next one to another
            # web than its last): no request can count on the web that served the
            # one before. Requests of no call: round robin.
            last = self._last_port.get(call_sid) if call_sid else None
            first = ports.index(last) + 1 if last in ports else next(self._turn)
        for offset in range(len(ports)):
            port = ports[(first + offset) % len(ports)]
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=FORWARD_TIMEOUT)
            try:
                try:
                    connection.connect()
                except ConnectionRefusedError:
                    with self._lock:
                        self.refused[port] += 1
                    continue  # that web is gone: the next one
                try:
                    connection.request(handler.command, handler.path, body=body, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException):
                    with self._lock:
                        self.failed[port] += 1
                    handler.send_error(502, "the web process went away mid-request")
                    return
                with self._lock:
                    self.forwarded.append(Forwarded(port, handler.path, call_sid, response.status))
                    if call_sid:
                        self._last_port[call_sid] = port
                handler.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        handler.send_header(name, value)
                handler.send_header("Content-Length", str(len(answer)))
                handler.end_headers()
                handler.wfile.write(answer)
                return
            finally:
                connection.close()
        handler.send_error(502, "no web process answers")


@dataclass
class ScaleOutStack(Stack):
    """`options.web_processes` is gunicorn's processes *within* each web; `webs`
    is how many separate `helpline serve` services run side by side."""

    webs: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    proxy: RoundRobinProxy | None = None
    web_ports: dict[str, int] = field(default_factory=dict)  # child name -> its port

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self.extra_env}

    def start(self, prepare: Callable[[redis.Redis], None]) -> ScaleOutStack:
        redis_dir = self.directory / "redis"
        self.redis_process = start_server(redis_dir, port=0, socket_name="redis.sock")
        self.redis_url = f"unix://{redis_dir / 'redis.sock'}"
        wait_until_ready(self.redis_url, self.redis_process)
        prepare(self.redis_client())

        self.proxy = RoundRobinProxy().start()
        # The public URL is the proxy's: the emulator calls it and signs for it,
        # and every web checks signatures against it (HELPLINE_PUBLIC_URL).
        self.line_url = self.proxy.url
        app = create_emulator(
            self.account_sid,
            self.auth_token,
            self.line_url,
            LINE_NUMBER,
            max_calls=200,
            webhook_timeout=15.0,
        )
        self.emulator = EmulatorServer(app).start()

        env = self.environment()
        helpline = str(Path(sys.executable).with_name("helpline"))
        for number in range(1, self.webs + 1):
            port = free_port()
            name = f"web-{number}"
            self._spawn(name, [helpline, "serve"], {**env, "PORT": str(port)})
            self.web_ports[name] = port
            self.proxy.ports.append(port)
        for number in range(1, self.options.workers + 1):
            self._spawn(f"worker-{number}", [helpline, "worker"], env)
        self._wait_until_all_up()
        return self

    def _wait_until_all_up(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        client = self.redis_client()
        while time.monotonic() < deadline:
            for child in self.children:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited at start:\n{child.log.read_text()}")
            if self._webs_healthy() and len(Worker.all(connection=client)) >= self.options.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the line did not come up within {START_SECONDS:.0f} s")

    def _webs_healthy(self) -> bool:
        for port in self.web_ports.values():
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except requests.RequestException:
                return False
            if health.status_code != 200:
                return False
        return True

    def kill(self, name: str) -> None:
        """SIGKILL a process of the line with everything it started (gunicorn's
        workers, RQ's scheduler): as when its machine dies."""
        child = next(c for c in self.children if c.name == name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=10)

    def log_of(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self.proxy is not None:
                self.proxy.stop()
