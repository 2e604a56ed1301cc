"""What every operator command needs from the line, in one place: its
settings and Redis without building the Flask app (so commands work while
the web is down), the name the audit log gives a terminal user, and one
clean error for a Redis that cannot be reached."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import click
import redis

from ivr.platform.config import ConfigError, Settings, load_settings
from ivr.platform.redis_store import connect, redis_url

# A command may read a whole roster and several lists: the webhooks'
# sub-second Redis timeout is not for this.
CLI_REDIS_TIMEOUT_SECONDS = 5.0


def cli_settings() -> Settings:
    """The line's settings, or a clean error naming every problem."""
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(
            "the line cannot start:\n  " + "\n  ".join(error.problems)
        ) from error


def cli_redis(settings: Settings | None = None) -> redis.Redis:
    return connect(redis_url(settings or cli_settings()), CLI_REDIS_TIMEOUT_SECONDS)


def cli_who() -> str:
    """Who the audit log names for a change made from this terminal."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment (a container, say)
        return "cli:unknown"


@contextmanager
def reaching_redis() -> Iterator[None]:
    """A Redis that is down or slow is a one-line error, not a traceback."""
    try:
        yield
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
