"""`make run`: the whole line on one machine, in the foreground.

A private Redis (unless REDIS_URL names one), the local Twilio emulator
(unless a Twilio account is configured), the web service and a worker, as
child processes sharing one environment. Ctrl-C, or any child dying, stops
all: the web service and the worker first, then the emulator, then Redis,
each waited for, so that nothing is cut off mid-request and nothing prints a
traceback on the way out.

One line per data directory (HELPLINE_VAR_DIR): `run.lock` is held while it
runs, and `run.json` says where it is. A second `make run` says so and starts
nothing (it once started a second Redis on the first one's data file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ivr.platform.config import Settings
from ivr.platform.embedded_redis import (
    COMMAND,
    LINE,
    PrivateRedis,
    alive,
    owner,
    shutdown,
    start_private,
)

RUN_LOCK = "run.lock"
RUN_FILE = "run.json"
COMMAND_WAIT_SECONDS = 30.0  # a command's own Redis is stopped when it ends
WEB_START_SECONDS = 30.0  # the banner waits this long at most for the web service


@dataclass(frozen=True)
class Where:
    """Where the running line is: printed in its banner and by a second `make run`."""

    pid: int
    web: str
    redis: str
    twilio: str

    def lines(self) -> list[str]:
        return [
            f"web service   {self.web}",
            f"admin         {self.web}/admin",
            f"redis         {self.redis}",
            f"twilio        {self.twilio}",
        ]


def _roster_state(redis_url: str) -> str | None:
    """ "N counselors, M on call now", or None when the roster is empty."""
    from datetime import UTC, datetime

    import redis

    from ivr.roster.oncall import who_is_on_call
    from ivr.roster.store import RosterStore

    try:
        roster = RosterStore(redis.Redis.from_url(redis_url, socket_timeout=2)).load()
    except redis.RedisError:
        return None
    if roster is None or not roster.counselors:
        return None
    on_call = len(who_is_on_call(roster, datetime.now(UTC)))
    return f"{len(roster.counselors)} on the roster, {on_call} counselor(s) on call now"


def _banner(settings: Settings, where: Where, emulator: bool, roster: str | None) -> str:
    helpline = ".venv/bin/helpline"
    if roster is None:
        roster_lines = [
            "    The roster is empty: nobody is on call. Load the example roster:",
            f"    {helpline} roster import examples/roster.yaml",
        ]
    else:
        roster_lines = [f"    roster        {roster}"]
    lines = [
        "",
        "  The helpline is running (development).",
        "",
        *(f"    {line}" for line in where.lines()),
        f"    health        {where.web}/healthz",
        f"    webhook token kept in {settings.var_dir / 'dev-secrets.json'}",
        f"    backup line   {settings.backup_number} (fictional in development)",
        *roster_lines,
        "",
        "  In another terminal:",
        "",
        f"    {helpline} password set NAME --role admin   a login for {where.web}/admin",
        f"    {helpline} simulate call                    call the line",
        f"    {helpline} simulate counselor               answer as the counselor on call",
        f"    {helpline} simulate sms 'KLONOPIN'          text the line",
    ]
    if emulator:
        lines.append(f"    texts the line sent: {where.twilio}/_emulator/messages")
    lines += ["", "  Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def _already_running(var_dir: Path) -> str:
    try:
        found = json.loads((var_dir / RUN_FILE).read_text())
        where = Where(**found)
    except (OSError, ValueError, TypeError):
        return f"The line is already running from {var_dir} (see {var_dir / RUN_LOCK})."
    shown = "\n".join(f"  {line}" for line in where.lines())
    return (
        f"The line is already running (pid {where.pid}), from {var_dir}:\n{shown}\n"
        "Nothing was started. Stop it with Ctrl-C in its terminal "
        f"(or kill {where.pid}), or set HELPLINE_VAR_DIR for a second line."
    )


def _hold_the_line(var_dir: Path) -> IO[str] | None:
    var_dir.mkdir(parents=True, exist_ok=True)
    lock = (var_dir / RUN_LOCK).open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def _private_redis(settings: Settings) -> PrivateRedis:
    """The data directory's Redis for the line. One a command started is
    waited for (it stops when the command ends); one a line killed outright
    left behind is adopted: this line stops it."""
    directory = settings.var_dir / "redis"
    deadline = time.monotonic() + COMMAND_WAIT_SECONDS
    while True:
        held = start_private(settings.var_dir, LINE)
        if held.process is not None:
            return held
        started_by = owner(directory)
        if started_by.get("kind") == COMMAND and alive(started_by.get("pid")):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"a helpline command (pid {started_by.get('pid')}) still holds the "
                    f"Redis of {directory}; let it finish, then `make run` again"
                )
            time.sleep(0.2)
            continue
        # Its starter is gone (a line or command killed outright): adopt it.
        (directory / "owner.json").write_text(json.dumps({"kind": LINE, "pid": os.getpid()}))
        return held


def run_all(settings: Settings) -> int:
    lock = _hold_the_line(settings.var_dir)
    if lock is None:
        print(_already_running(settings.var_dir), file=sys.stderr)
        return 1
    try:
        return _run(settings)
    finally:
        with contextlib.suppress(FileNotFoundError):
            (settings.var_dir / RUN_FILE).unlink()
        lock.close()


def _run(settings: Settings) -> int:
    env = dict(os.environ)
    children: list[subprocess.Popen[bytes]] = []
    private: PrivateRedis | None = None
    redis_url = settings.redis_url or ""
    if not redis_url:
        private = _private_redis(settings)
        redis_url = env["REDIS_URL"] = private.url
    helpline = str(Path(sys.executable).with_name("helpline"))
    twilio = settings.twilio_api_url or "Twilio's own API"
    emulator = not os.environ.get("TWILIO_ACCOUNT_SID") and not settings.twilio_api_url
    web = f"http://{settings.host}:{settings.port}"
    stopping = False

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):  # killed, or its terminal closed
        signal.signal(signum, stop)
    code = 0
    try:
        if emulator:
            # No real account: the local emulator plays Twilio, texts and calls included.
            port = os.environ.get("HELPLINE_EMULATOR_PORT", "5100")
            children.append(_child([helpline, "emulator", "--port", port], env, quiet=True))
            twilio = env["HELPLINE_TWILIO_API_URL"] = f"http://127.0.0.1:{port}"
        for command in ("serve", "worker"):
            children.append(_child([helpline, command], env))
        where = Where(os.getpid(), web, redis_url, twilio)
        (settings.var_dir / RUN_FILE).write_text(json.dumps(where.__dict__))
        _wait_for_web(web, children)  # the banner comes after the parts' start-up lines
        print(_banner(settings, where, emulator, _roster_state(redis_url)), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = 1
        print("a part of the line stopped; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        stopping = True
    finally:
        # Those who use Redis first (the worker, the web, the emulator), then Redis.
        for child in reversed(children):
            _stop(child)
        if private is not None:
            if private.process is None:
                shutdown(private.url)  # adopted: this line stops it
            private.stop()
    if stopping:
        print("the line stopped", flush=True)
    return code


def _wait_for_web(web: str, children: list[subprocess.Popen[bytes]]) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + WEB_START_SECONDS
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            with urllib.request.urlopen(f"{web}/healthz", timeout=1):  # noqa: S310 - our own
                pass
            time.sleep(0.3)  # the worker's own start-up lines
            return
        except urllib.error.HTTPError:
            return  # it answers (503 until the worker's first beat): up
        except OSError:
            time.sleep(0.1)


def _child(args: list[str], env: dict[str, str], *, quiet: bool = False) -> subprocess.Popen[bytes]:
    """A part of the line in its own session: a Ctrl-C in the terminal reaches
    `run` alone, which stops each part in order (else the worker saw Redis
    vanish first and printed tracebacks). On Linux a part is also told to stop
    if `run` is killed outright, so that none is left behind."""
    return subprocess.Popen(  # noqa: S603 - our own console script
        args,
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
        start_new_session=True,
        preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
    )


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (prctl
    PR_SET_PDEATHSIG). `run` is single-threaded when it starts its parts."""
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
