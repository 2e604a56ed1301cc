"""The `Desk` that the operator commands (`helpline now`, `voicemail`,
`figures`, `optout`, `callbacks done|show`) work through. It is built from the
line's settings with no Flask app, so these commands still work when the web
is down, and it is the same `Desk` the API and the pages use, so all three
read and change the line the same way. The counselors' desk
(`helpline conversations`, `contacts wrapup`) is built the same way.

Changes made from a terminal are audited as "cli:<os user>"."""

from __future__ import annotations

import click

from ivr.callbacks.urgent import UrgentItems
from ivr.cli.support import cli_redis, cli_settings, cli_who, reaching_redis
from ivr.content.check import load_content
from ivr.content.loader import ContentError
from ivr.line import Line
from ivr.operators.accounts import Operator
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import CounselorDesk
from ivr.operators.desk import Desk, open_desk

__all__ = ["cli_counselor_desk", "cli_desk", "cli_operator", "cli_who", "reaching_redis"]


def cli_desk() -> Desk:
    """The desk for the line configured here, or a clean error naming the problems."""
    settings = cli_settings()
    return open_desk(cli_redis(settings), settings)


def cli_counselor_desk() -> CounselorDesk:
    """The counselors' desk the pages and the API use, for the line configured
    here: its content loaded and checked as the service loads it."""
    settings = cli_settings()
    try:
        content = load_content(settings.flows_dir)
    except ContentError as error:
        raise click.ClickException(
            f"the content in {settings.flows_dir} has problems; run `helpline flows check`"
        ) from error
    line = Line(settings, content, cli_redis(settings))
    return CounselorDesk(
        line.threads,
        UrgentItems(line.redis, settings.retention_seconds),
        line.outbox,
        line.contacts,
        AuditLog(line.redis),
        content,
        line.jobs,
        settings,
    )


def cli_operator(counselor: str | None = None) -> Operator:
    """The terminal's user as the desk sees them: an admin (a shell on the
    server reads everything), or, given COUNSELOR, acting for that counselor
    only (an empty one is nobody's, and may do nothing). Audited as
    "cli:<os user>"."""
    name = cli_who().removeprefix("cli:")
    if counselor is not None:
        return Operator(name, "counselor", "cli", counselor=counselor)
    return Operator(name, "admin", "cli")
