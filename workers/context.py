"""What a job needs from the line, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import redis

from ivr.content.check import load_content
from ivr.content.model import Content
from ivr.platform.config import Settings, load_settings
from ivr.platform.redis_store import redis_url


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    content: Content
    redis: redis.Redis


_installed: list[JobContext] = []


def install(context: JobContext | None) -> None:
    """Run jobs against this line instead of the environment's (tests, an
    embedded worker); None goes back to the environment."""
    _installed.clear()
    if context is not None:
        _installed.append(context)


@cache
def _from_environment() -> JobContext:
    settings = load_settings()
    return JobContext(
        settings=settings,
        content=load_content(settings.flows_dir),
        redis=redis.Redis.from_url(redis_url(settings), socket_timeout=10),
    )


def job_context() -> JobContext:
    return _installed[0] if _installed else _from_environment()
