"""The `Desk` that the operator commands (`helpline now`, `voicemail`,
`figures`, `optout`, `callbacks done|show`) work through. It is built from the
line's settings with no Flask app, so these commands still work when the web
is down, and it is the same `Desk` the API and the pages use, so all three
read and change the line the same way.

Changes made from a terminal are audited as "cli:<os user>"."""

from __future__ import annotations

from ivr.cli.support import cli_redis, cli_settings, cli_who, reaching_redis
from ivr.operators.desk import Desk, open_desk

__all__ = ["cli_desk", "cli_who", "reaching_redis"]


def cli_desk() -> Desk:
    """The desk for the line configured here, or a clean error naming the problems."""
    settings = cli_settings()
    return open_desk(cli_redis(settings), settings)
