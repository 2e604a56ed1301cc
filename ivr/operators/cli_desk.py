"""The `Desk` that the operator commands (`helpline now`, `voicemail`,
`figures`, `optout`, `callbacks done|show`) work through. It is built from the
line's settings with no Flask app, so these commands still work when the web
is down, and it is the same `Desk` the API and the pages use, so all three
read and change the line the same way.

Changes made from a terminal are audited as "cli:<os user>"."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import click
import redis

from ivr.operators.desk import Desk, open_desk

# A command reads a whole roster and several lists: the webhook's sub-second
# timeout is not for this.
CLI_REDIS_TIMEOUT_SECONDS = 5.0


def cli_desk() -> Desk:
    """The desk for the line configured here, or a clean error naming the problems."""
    from ivr.config import ConfigError, load_settings
    from ivr.redis_store import connect, redis_url

    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(
            "the line cannot start:\n  " + "\n  ".join(error.problems)
        ) from error
    return open_desk(connect(redis_url(settings), CLI_REDIS_TIMEOUT_SECONDS), settings)


def cli_who() -> str:
    """Who the audit log names for a change made from this terminal."""
    return "cli:" + getpass.getuser()


@contextmanager
def reaching_redis() -> Iterator[None]:
    """A Redis that is down or slow is a one-line error, not a traceback."""
    try:
        yield
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
