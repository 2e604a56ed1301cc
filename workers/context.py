"""The line a job works for: built once per worker process from the
environment, or installed (tests, an embedded worker)."""

from __future__ import annotations

from functools import cache

import redis

from ivr.content.check import load_content
from ivr.line import Line
from ivr.platform.config import load_settings
from ivr.platform.redis_store import redis_url

_installed: list[Line] = []


def install(context: Line | None) -> None:
    """Run jobs against this line instead of the environment's (tests, an
    embedded worker); None goes back to the environment."""
    _installed.clear()
    if context is not None:
        _installed.append(context)


@cache
def _from_environment() -> Line:
    settings = load_settings()
    return Line(
        settings=settings,
        content=load_content(settings.flows_dir),
        redis=redis.Redis.from_url(redis_url(settings), socket_timeout=10),
    )


def job_line() -> Line:
    return _installed[0] if _installed else _from_environment()
