"""`helpline callbacks`: the open callback requests, and returning one."""

from __future__ import annotations

import time

import click
import redis
from rq import Queue

from ivr.callbacks import Callbacks
from ivr.config import load_settings
from ivr.extension import QUEUE_NAME
from ivr.privacy import mask
from ivr.redis_store import connect, redis_url

CONNECT_JOB = "workers.callbacks.connect"


def _open() -> tuple[Callbacks, redis.Redis]:
    settings = load_settings()
    client = connect(redis_url(settings), 2.0)
    return Callbacks(client, settings.secret_key, settings.retention_days * 86400), client


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
    Queue(QUEUE_NAME, connection=client).enqueue(CONNECT_JOB, reference, counselor)
    click.echo(f"ringing {counselor} for {reference}")


@callbacks.command("done")
@click.argument("reference")
def done(reference: str) -> None:
    """Mark a request done (returned some other way)."""
    store, _ = _open()
    if not store.mark(reference, "done", by="cli"):
        raise click.ClickException(f"no callback request {reference}")
    click.echo(f"{reference} done")
