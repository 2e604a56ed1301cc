"""`helpline callbacks`: the open callback requests, and returning one.
`done` and `show` go through the operators' `Overview` and audit log, as the
API and the pages do; `show --reveal` is the one command that prints a
caller's number in full."""

from __future__ import annotations

import time

import click
import redis
from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.cli.desk import cli_desk, cli_who, reaching_redis
from ivr.cli.support import cli_redis, cli_settings
from ivr.jobs import QUEUE_NAME, Jobs
from ivr.platform.privacy import mask


def _open() -> tuple[Callbacks, redis.Redis]:
    settings = cli_settings()
    client = cli_redis(settings)
    return Callbacks(client, settings.secret_key, settings.retention_seconds), client


@click.group("callbacks")
def callbacks() -> None:
    """Callback requests from voicemail, texts and crisis texts."""


@callbacks.command("list")
def list_open() -> None:
    """Open requests, urgent and oldest first; numbers masked."""
    store, _ = _open()
    references = store.open_references()
    if not references:
        click.echo("no open callback requests")
    for reference in references:
        record = store.get(reference)
        waited = int((time.time() - float(record.get("created", time.time()))) // 60)
        urgent = "URGENT " if record.get("urgent") == "1" else ""
        click.echo(
            f"{reference}  {urgent}{record.get('source', '')}, "
            f"{record.get('language', '')}, {mask(record.get('number', ''))}, "
            f"waiting {waited} min, tries {record.get('attempts', '0')}"
        )


@callbacks.command("call")
@click.argument("reference")
@click.option("--counselor", required=True, help="The id of a counselor on the roster.")
def call(reference: str, counselor: str) -> None:
    """Ring COUNSELOR; when they press 1 the line dials the person back."""
    store, client = _open()
    if not store.get(reference):
        raise click.ClickException(f"no callback request {reference}")
    Jobs(Queue(QUEUE_NAME, connection=client)).connect_callback(reference, counselor)
    click.echo(f"ringing {counselor} for {reference}")


@callbacks.command("done")
@click.argument("reference")
def done(reference: str) -> None:
    """Mark a request done (returned some other way); audited as the pages do."""
    who = cli_who()
    with reaching_redis():
        desk = cli_desk()
        changed = desk.overview.mark_callback(reference, "done", who)
        if changed is None:
            raise click.ClickException(f"no callback request {reference}")
        before, after = changed
        desk.audit.record(who, "callback.status", reference, before.status, after.status)
    click.echo(f"{reference} done")


@callbacks.command("show")
@click.argument("reference")
@click.option(
    "--reveal", is_flag=True, help="Print the number in full, to call back now (audited)."
)
def show(reference: str, reveal: bool) -> None:
    """One request, its number masked; with --reveal in full, for the admin
    about to call back. The only command that prints a caller's number, so
    each reveal is audited."""
    with reaching_redis():
        desk = cli_desk()
        found = desk.overview.callback(reference)
        number = desk.overview.callback_number(reference) if reveal else None
        if found is None or (reveal and number is None):
            raise click.ClickException(f"no callback request {reference}")
        if reveal:
            desk.audit.record(cli_who(), "callback.reveal", reference)
    fields = [
        ("reference", found.reference),
        ("status", found.status),
        ("urgent", "yes" if found.urgent else "no"),
        ("source", found.source),
        ("language", found.language),
        ("created", f"{found.created:%Y-%m-%d %H:%M} UTC"),
        ("waiting", f"{found.waiting_minutes} min"),
        ("tries", str(found.attempts)),
        ("number", number or found.caller),
    ]
    for name, value in fields:
        click.echo(f"{name:<10} {value}")
