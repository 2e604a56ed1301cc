"""The Redis the `helpline roster …` commands use, from the line's settings:
one place, so reading and editing commands fail the same way."""

from __future__ import annotations

import click
import redis

# A whole roster may be large; the webhook's sub-second timeout is not for this.
CLI_REDIS_TIMEOUT_SECONDS = 5.0


def cli_redis() -> redis.Redis:
    from ivr.config import ConfigError, load_settings
    from ivr.redis_store import connect, redis_url

    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(
            "the line cannot start:\n  " + "\n  ".join(error.problems)
        ) from error
    return connect(redis_url(settings), CLI_REDIS_TIMEOUT_SECONDS)
