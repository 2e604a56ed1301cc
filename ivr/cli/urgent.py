"""`helpline urgent`: urgent work nobody has taken yet, and taking it.

Taking an item stops its escalation ladder at once (ivr/callbacks/urgent.py);
it is audited as the pages and the API audit it."""

from __future__ import annotations

import click

from ivr.cli.desk import cli_desk, cli_who, reaching_redis


@click.group("urgent")
def urgent_group() -> None:
    """Crisis texts' callbacks, urgent callbacks and voicemails not yet taken."""


@urgent_group.command("list")
def urgent_list() -> None:
    """Open urgent work, oldest first: how long it waited, its ladder step."""
    with reaching_redis():
        found = cli_desk().overview.urgent()
    if not found:
        click.echo("no urgent work waiting")
    for work in found:
        backup = ", the backup line was called" if work.reached_backup else ""
        click.echo(
            f"{work.reference}  {work.kind}, {work.language}, waiting {work.waiting_minutes} min, "
            f"step {work.step}{backup}"
        )


@urgent_group.command("claim")
@click.argument("reference")
def urgent_claim(reference: str) -> None:
    """Take REFERENCE: the ladder stops; then return it (`helpline callbacks call`)."""
    who = cli_who()
    with reaching_redis():
        desk = cli_desk()
        taken = desk.overview.claim_urgent(reference, who)
        if taken is None:
            raise click.ClickException(f"no urgent item {reference} (see `helpline urgent list`)")
        if not taken:
            raise click.ClickException(f"{reference} was already taken by someone else")
        desk.audit.record(who, "urgent.claim", reference, "open", "claimed")
    click.echo(f"{reference} is yours: `helpline callbacks call {reference} --counselor ID`")
