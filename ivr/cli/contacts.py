"""`helpline contacts list|show|export|wrapup`: the record of every contact
(issue 19) in a terminal, for scripts and for when the web is down. Lists
never print a note; `show` does (a counselor's words about a person), audited
as "cli:<os user>" like an admin's reading at the desk. `export` is the
contact log's CSV (issue 20), with the admin log's filter: days in the line's
zone, channel, language, outcome, counselor, disposition. `wrapup` records a
counselor's wrap-up through the desk's own code, its codes from
flows/wrapup.yaml, audited as "cli:<os user>" naming the counselor."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from ivr.cli.desk import cli_counselor_desk, cli_operator, cli_who, reaching_redis
from ivr.cli.support import cli_redis, cli_settings
from ivr.cli.terminal import visible, when
from ivr.contacts.export import csv_lines
from ivr.contacts.log import oldest_first, read_filter
from ivr.contacts.records import CHANNELS, NOTE_MAX, OUTCOMES, Contact, Contacts, WrapUp
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import DeskRefused, wrapup_lists


def _contacts() -> tuple[Contacts, AuditLog]:
    settings = cli_settings()
    client = cli_redis(settings)
    return Contacts(client, settings.retention_seconds), AuditLog(client)


def _row(contact: Contact) -> str:
    waited = contact.waited_seconds
    wrap = "due" if contact.wrapup_due else (contact.risk or "-")
    return (
        f"{contact.id}  {when(contact.started)} UTC  {contact.channel:<8} {contact.language:<3}"
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
        click.echo(f"note: {visible(contact.note) or '-'}")


EXPORT_DAYS = 30  # an export's range when none is asked for


@contacts_group.command("export")
@click.option(
    "--from",
    "first",
    default="",
    metavar="YYYY-MM-DD",
    help="The first day, in the line's zone (HELPLINE_TIMEZONE).",
)
@click.option(
    "--to",
    "last",
    default="",
    metavar="YYYY-MM-DD",
    help="The last day, in the line's zone  [default: today]",
)
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 400),
    default=None,
    help="Instead of days: the last HOURS.",
)
@click.option("--channel", type=click.Choice(CHANNELS), default=None)
@click.option("--language", default="", metavar="CODE")
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None)
@click.option("--counselor", default="", metavar="ID")
@click.option("--disposition", default="", metavar="CODE")
@click.option("--notes", is_flag=True, help="Add the counselors' notes (audited).")
def contacts_export(
    first: str,
    last: str,
    hours: int | None,
    channel: str | None,
    language: str,
    outcome: str | None,
    counselor: str,
    disposition: str,
    notes: bool,
) -> None:
    """CSV of the contacts the filter matches (the admin log's), oldest
    first, to standard output: the last 30 days of the line's zone unless
    --from/--to or --hours; times in that zone; no phone numbers, no notes
    unless --notes."""  # fmt: skip
    if hours is not None and (first or last):
        raise click.UsageError("--hours or --from/--to, not both")
    settings = cli_settings()
    zone = settings.timezone
    raw = {
        "from": first, "to": last, "channel": channel or "", "language": language,
        "outcome": outcome or "", "counselor": counselor, "disposition": disposition,
    }  # fmt: skip
    asked = read_filter(raw, zone, datetime.now(ZoneInfo(zone)).date(), EXPORT_DAYS)
    if asked.errors:
        raise click.UsageError("; ".join(asked.errors.values()))
    wanted, span = asked.wanted, ""
    if hours is not None:
        end = time.time()
        wanted, span = replace(wanted, start=end - hours * 3600, end=end + 1), f"last {hours} h"
    with reaching_redis():
        client = cli_redis(settings)
        if notes:
            AuditLog(client).record(cli_who(), "contacts.export_notes", asked.description(span))
        found = oldest_first(client, Contacts(client, settings.retention_seconds), wanted)
        for line in csv_lines(found, zone=zone, with_notes=notes):
            click.echo(line, nl=False)


# The desk's field a refusal names, and the option that gave it.
_OPTIONS = {
    "dispositions": "--disposition",
    "risk": "--risk",
    "referrals": "--referral",
    "note": "--note",
}


def _check_codes(codes: tuple[str, ...], allowed: frozenset[str], field: str) -> None:
    """Every code one flows/wrapup.yaml lists, or a usage error naming the option."""
    for code in codes:
        if code not in allowed:
            raise click.BadParameter(
                f"{code!r} is not one of flows/wrapup.yaml's: {', '.join(sorted(allowed))}",
                param_hint=f"'{_OPTIONS[field]}'",
            )


@contacts_group.command("wrapup")
@click.argument("contact_id", metavar="REF")
@click.option("--disposition", "dispositions", multiple=True, required=True, metavar="CODE",
              help="One or more (repeat the option), as flows/wrapup.yaml lists them.")  # fmt: skip
@click.option("--risk", required=True, metavar="CODE", help="The risk level's code.")
@click.option("--referral", "referrals", multiple=True, metavar="CODE",
              help="Each referral given (repeat the option).")  # fmt: skip
@click.option("--note", default="", help=f"For the next shift; at most {NOTE_MAX} characters.")
@click.option("--by", "counselor", required=True, metavar="COUNSELOR",
              help="The roster counselor who handled it, whose wrap-up this is.")  # fmt: skip
def contacts_wrapup(
    contact_id: str,
    dispositions: tuple[str, ...],
    risk: str,
    referrals: tuple[str, ...],
    note: str,
    counselor: str,
) -> None:
    """Complete a contact's wrap-up for the counselor who handled it, as at
    the desk: codes from flows/wrapup.yaml (a bad one changes nothing),
    audited as this terminal's user."""
    with reaching_redis():
        desk = cli_counselor_desk()
        lists = wrapup_lists(desk.content)
        _check_codes(dispositions, lists.dispositions, "dispositions")
        _check_codes((risk,), lists.risks, "risk")
        _check_codes(referrals, lists.referrals, "referrals")
        wrap = WrapUp(dispositions, risk, referrals, note.strip())
        try:
            done = desk.wrap_up(contact_id, cli_operator(counselor), wrap, via="cli")
        except DeskRefused as refused:
            if refused.field in _OPTIONS:
                raise click.BadParameter(
                    str(refused), param_hint=f"'{_OPTIONS[refused.field]}'"
                ) from None
            if refused.status == 403:
                raise click.BadParameter(
                    f"{contact_id} is not {counselor}'s to wrap up: --by names the counselor "
                    "who handled it",
                    param_hint="'--by'",
                ) from None
            raise click.ClickException(str(refused)) from None
    click.echo(
        f"{done.id} wrapped up for {counselor}: {', '.join(done.dispositions)}; "
        f"risk {done.risk}; referrals {', '.join(done.referrals) or '-'}"
    )
