"""`helpline twilio setup` and `helpline fallback export`."""

from __future__ import annotations

from pathlib import Path

import click
import requests
from twilio.base.exceptions import TwilioException

from ivr.cli.support import cli_settings
from ivr.platform.config import DEV_BACKUP_NUMBER
from ivr.platform.privacy import mask


@click.group("twilio")
def twilio_group() -> None:
    """The line's Twilio number."""


@twilio_group.command("setup")
@click.option(
    "--fallback-base",
    metavar="URL",
    default=None,
    help="Where the files of `helpline fallback export` are served (e.g. "
    "https://static.example.org/helpline/); the fallback URLs point there. "
    "Without it they are left as they are (production requires it).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option(
    "--skip-fallback-check",
    is_flag=True,
    help="Do not fetch the fallback files first (when they are uploaded later).",
)
def twilio_setup(fallback_base: str | None, dry_run: bool, skip_fallback_check: bool) -> None:
    """Point HELPLINE_NUMBER at this service: Voice and SMS URLs (with short
    connection timeouts), status callback, fallback URLs."""
    from ivr.golive.twilio_setup import (
        SetupError,
        apply_plan,
        check_fallback,
        describe,
        find_number,
        plan_for,
        rest_error,
        url_problems,
        wanted_settings,
    )
    from ivr.platform.twilio_transport import twilio_client

    settings = cli_settings()
    wanted = wanted_settings(settings, fallback_base)
    problems = url_problems(settings, wanted, fallback_base)
    if not problems and fallback_base is not None and not skip_fallback_check:
        problems = check_fallback(fallback_base)
        if problems:
            problems.append(
                "the fallback files must be served there, as text/xml, before the number "
                "points at them (`helpline fallback export DIR`, then upload DIR), or pass "
                "--skip-fallback-check"
            )
    if problems:
        raise click.ClickException("cannot set up the number:\n  " + "\n  ".join(problems))
    client = twilio_client(settings)
    try:
        plan = plan_for(find_number(client, settings.line_number), wanted)
        for line in describe(plan):
            click.echo(line)
        if fallback_base is None:
            click.echo("(fallback URLs left as they are: no --fallback-base)")
        if not plan.pending:
            click.echo("nothing to change: the number is set up")
            return
        if dry_run:
            click.echo(f"dry run: {len(plan.pending)} setting(s) would change; nothing changed")
            return
        differs = apply_plan(client, plan)
    except SetupError as error:
        raise click.ClickException(str(error)) from error
    except (TwilioException, requests.RequestException) as error:
        raise click.ClickException(str(rest_error(error))) from error
    if differs:
        raise click.ClickException(
            "Twilio holds other values than were set:\n  "
            + "\n  ".join(f"{c.name}: {c.before!r}, not {c.after!r}" for c in differs)
        )
    click.echo(f"updated {len(plan.pending)} setting(s); read back from Twilio: all as set")


@click.group("fallback")
def fallback_group() -> None:
    """The fallback that does not depend on this service."""


@fallback_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def fallback_export(directory: Path) -> None:
    """Write static TwiML files (voice: crisis numbers, then the backup line;
    SMS: 911/988 and the backup number) for any static web host."""
    from ivr.content.check import load_content
    from ivr.content.loader import ContentError
    from ivr.golive.fallback_export import ExportError, export

    settings = cli_settings()
    if settings.backup_number == DEV_BACKUP_NUMBER:
        # Development fills in a placeholder when HELPLINE_BACKUP_NUMBER is unset.
        # These files are what a caller gets when the service is down: dialing a
        # number that reaches no one there is the worst place for it.
        raise click.ClickException(
            "HELPLINE_BACKUP_NUMBER is not set (the development placeholder reaches no "
            "one): set it to the always-staffed line and export again"
        )
    try:
        content = load_content(settings.flows_dir)
        written = export(content, settings.backup_number, directory)
    except ContentError as error:
        raise click.ClickException(
            f"the content in {settings.flows_dir} has problems; run `helpline flows check`"
        ) from error
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"cannot write {directory}: {error.strerror}") from error
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"backup number {mask(settings.backup_number)}; serve {directory}/ over https and run "
        "`helpline twilio setup --fallback-base URL`"
    )
