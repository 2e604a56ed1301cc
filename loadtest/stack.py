"""The line as production runs it, on loopback, for one load run: a private
Redis (unix socket only), `helpline serve` (gunicorn), N `helpline worker`
processes, and the Twilio emulator served in this process (so the run can
drive its phones and read its records directly). Every process gets its own
session, so stopping it stops its children too (gunicorn's workers, RQ's
scheduler); nothing outlives the run."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import redis
import requests
from rq import Worker

from ivr.platform.embedded_redis import start_server, wait_until_ready
from loadtest.ports import free_port
from twilio_emulator import EmulatorServer, Network, create_emulator

LINE_NUMBER = "+18885550100"  # fictional (555-01xx), as in development
BACKUP_NUMBER = "+12025550199"
START_SECONDS = 60.0  # the most the stack may take to come up


@dataclass(frozen=True)
class StackOptions:
    workers: int = 2
    web_processes: int = 2
    web_threads: int = 8
    ring_seconds: int = 5
    ring_rounds: int = 2
    max_hold_seconds: int = 30
    sms_segments_per_second: float = 50.0
    keep: bool = False  # keep the directory (logs, Redis data) after the run


@dataclass
class Child:
    """One process of the line, its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        # Whatever of its session is left (a scheduler child, a gunicorn worker).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@dataclass
class Stack:
    options: StackOptions
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="loadtest-")))
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    children: list[Child] = field(default_factory=list)
    redis_process: subprocess.Popen[bytes] | None = None
    emulator: EmulatorServer | None = None
    redis_url: str = ""
    line_url: str = ""

    # -- what the run uses -----------------------------------------------------

    @property
    def network(self) -> Network:
        assert self.emulator is not None
        return self.emulator.network

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def logs(self) -> dict[str, Path]:
        return {child.name: child.log for child in self.children}

    def environment(self) -> dict[str, str]:
        """The settings every process of the line shares (nothing from the
        developer's own environment that could change the line's behaviour)."""
        assert self.emulator is not None
        options = self.options
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HELPLINE_", "TWILIO_", "REDIS_")) and k not in ("HOST", "PORT")
        }
        port = self.line_url.rsplit(":", 1)[1]
        env.update(
            {
                "HELPLINE_ENV": "development",
                "REDIS_URL": self.redis_url,
                "TWILIO_ACCOUNT_SID": self.account_sid,
                "TWILIO_AUTH_TOKEN": self.auth_token,
                "HELPLINE_TWILIO_API_URL": self.emulator.url,
                "HELPLINE_PUBLIC_URL": self.line_url,
                "HELPLINE_NUMBER": LINE_NUMBER,
                "HELPLINE_BACKUP_NUMBER": BACKUP_NUMBER,
                "HELPLINE_SECRET_KEY": secrets.token_hex(32),
                "HELPLINE_VAR_DIR": str(self.directory / "var"),
                "HOST": "127.0.0.1",
                "PORT": port,
                "HELPLINE_WEB_PROCESSES": str(options.web_processes),
                "HELPLINE_WEB_THREADS": str(options.web_threads),
                "HELPLINE_RING_SECONDS": str(options.ring_seconds),
                "HELPLINE_RING_ROUNDS": str(options.ring_rounds),
                "HELPLINE_MAX_HOLD_SECONDS": str(options.max_hold_seconds),
                "HELPLINE_SMS_SEGMENTS_PER_SECOND": f"{options.sms_segments_per_second:g}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # -- start and stop ----------------------------------------------------------

    def start(self, prepare: Callable[[redis.Redis], None]) -> Stack:
        """Start everything; `prepare` fills Redis (the roster) before the line
        reads it."""
        redis_dir = self.directory / "redis"
        # --port 0: no TCP listener at all, the unix socket only.
        self.redis_process = start_server(redis_dir, port=0, socket_name="redis.sock")
        self.redis_url = f"unix://{redis_dir / 'redis.sock'}"
        wait_until_ready(self.redis_url, self.redis_process)
        prepare(self.redis_client())

        line_port = free_port()
        self.line_url = f"http://127.0.0.1:{line_port}"
        app = create_emulator(
            self.account_sid,
            self.auth_token,
            self.line_url,
            LINE_NUMBER,
            # A caller on hold hears each wait document for as long as it speaks,
            # as on Twilio: the line's hold loop runs at its real pace.
            hold_pace=1.0,
            max_calls=2000,
            log_limit=1_000_000,  # keep every webhook of the run for the figures
            webhook_timeout=15.0,
        )
        self.emulator = EmulatorServer(app).start()

        env = self.environment()
        helpline = str(Path(sys.executable).with_name("helpline"))
        self._spawn("serve", [helpline, "serve"], env)
        for number in range(self.options.workers):
            self._spawn(f"worker-{number + 1}", [helpline, "worker"], env)
        self._wait_until_up()
        return self

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.directory / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own console script
                command,
                env=env,
                # Not the repository: a developer's .env there must not change the run.
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append(Child(name, process, log))

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        client = self.redis_client()
        while time.monotonic() < deadline:
            for child in self.children:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited at start; see {child.log}")
            try:
                health = requests.get(f"{self.line_url}/healthz", timeout=2)
            except requests.RequestException:
                health = None
            workers = len(Worker.all(connection=client))
            if health is not None and health.status_code == 200 and workers >= self.options.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the line did not come up within {START_SECONDS:.0f} s")

    def stop(self) -> None:
        # Workers first (they may still be asking the emulator), then the web, then
        # the emulator (its open calls are hung up), then Redis.
        for child in sorted(self.children, key=lambda c: c.name != "serve", reverse=True):
            child.stop()
        if self.emulator is not None:
            self.emulator.stop()
        if self.redis_process is not None:
            self.redis_process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.redis_process.wait(timeout=10)
            if self.redis_process.poll() is None:
                self.redis_process.kill()
                self.redis_process.wait(timeout=10)
        if not self.options.keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
