"""`helpline contacts list|show`: the record of every contact (issue 19) in a
terminal, for scripts and for when the web is down. Lists never print a
note; `show` does (a counselor's words about a person), audited as
"cli:<os user>" like an admin's reading at the desk."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime

import click

from ivr.cli.desk import cli_who, reaching_redis
from ivr.cli.support import cli_redis, cli_settings
from ivr.contacts.export import to_csv
from ivr.contacts.records import CHANNELS, Contact, Contacts
from ivr.operators.audit import AuditLog


def _contacts() -> tuple[Contacts, AuditLog]:
    settings = cli_settings()
    client = cli_redis(settings)
    return Contacts(client, settings.retention_seconds), AuditLog(client)


def _when(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")


def _row(contact: Contact) -> str:
    waited = contact.waited_seconds
    wrap = "due" if contact.wrapup_due else (contact.risk or "-")
    return (
        f"{contact.id}  {_when(contact.started)} UTC  {contact.channel:<8} {contact.language:<3}"
        f" {contact.outcome:<12} {contact.counselor or '-':<12}"
        f" waited {int(waited) if waited is not None else '-':>4}s  wrap-up {wrap}"
    )


@click.group("contacts")
def contacts_group() -> None:
    """Every call, text conversation and returned call, and its wrap-up."""


@contacts_group.command("list")
@click.option("--hours", type=click.IntRange(1, 24 * 400), default=24, show_default=True)
@click.option("--channel", type=click.Choice(CHANNELS), default=None)
@click.option("--json", "as_json", is_flag=True, help="As JSON lines (no notes).")
def contacts_list(hours: int, channel: str | None, as_json: bool) -> None:
    """Contacts that started in the last HOURS, oldest first (no notes)."""
    with reaching_redis():
        store, _ = _contacts()
        end = time.time()
        found = [
            c
            for c in store.between(end - hours * 3600, end + 1)
            if channel is None or c.channel == channel
        ]
    for contact in found:
        if as_json:
            shown = {k: v for k, v in asdict(contact).items() if k != "note"}
            click.echo(json.dumps(shown, sort_keys=True))
        else:
            click.echo(_row(contact))
    if not found and not as_json:
        click.echo(f"No contacts in the last {hours} hours.")


@contacts_group.command("show")
@click.argument("contact_id", metavar="ID")
def contacts_show(contact_id: str) -> None:
    """One contact with its wrap-up and note (audited)."""
    with reaching_redis():
        store, audit = _contacts()
        contact = store.get(contact_id)
        if contact is None:
            raise click.ClickException(f"no contact {contact_id}")
        audit.record(cli_who(), "contact.view", contact_id)
    click.echo(_row(contact))
    if contact.wrapup_at is not None:
        click.echo(f"dispositions: {', '.join(contact.dispositions)}")
        click.echo(f"risk: {contact.risk}")
        click.echo(f"referrals: {', '.join(contact.referrals) or '-'}")
        click.echo(f"note: {contact.note or '-'}")


@contacts_group.command("export")
@click.option("--hours", type=click.IntRange(1, 24 * 400), default=24 * 30, show_default=True)
@click.option("--channel", type=click.Choice(CHANNELS), default=None)
@click.option("--notes", is_flag=True, help="Add the counselors' notes (audited).")
def contacts_export(hours: int, channel: str | None, notes: bool) -> None:
    """CSV of the contacts that started in the last HOURS, to standard output:
    no phone numbers, no notes unless --notes."""
    with reaching_redis():
        store, audit = _contacts()
        end = time.time()
        found = [
            c
            for c in store.between(end - hours * 3600, end + 1)
            if channel is None or c.channel == channel
        ]
        if notes:
            audit.record(cli_who(), "contacts.export_notes", f"{len(found)} contacts")
    click.echo(to_csv(found, with_notes=notes), nl=False)
