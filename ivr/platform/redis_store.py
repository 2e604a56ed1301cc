"""The one Redis connection of a process, with timeouts short enough that a
dead Redis costs a caller well under a second before the safe fallback plays."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr.platform.config import Settings


def connect(url: str, timeout_seconds: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        # redis-py retries with backoff by default; on a webhook's hot path one
        # quick failure beats seconds of silence on the line.
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


def redis_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    from ivr.platform.embedded_redis import ensure_running

    return ensure_running(settings.var_dir)


def decoded(
    raw: dict[bytes, bytes] | dict[str, str] | dict[bytes | str, bytes | str],
) -> dict[str, str]:
    """A Redis hash as text, whatever the client's decode setting."""
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }


def text(value: object) -> str:
    """A Redis reply as text, whatever the client's decode setting."""
    return value.decode() if isinstance(value, bytes) else str(value)


def stored_time(value: str | None) -> float | None:
    """A stored Unix time, or None for a field left empty (not happened yet)."""
    return float(value) if value else None
