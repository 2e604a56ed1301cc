"""`helpline conversations list|show`: the open text conversations (issue 19)
in a terminal, as an admin sees them at the desk. The list shows a
reference, a state, since when and who holds it, never a number or words;
`show` prints one conversation's messages, a reading of a person's words
audited as "cli:<os user>" with the desk's `conversation.view`, as an
admin's reading at the desk or through the API is."""

from __future__ import annotations

import json
import time

import click

from ivr.cli.desk import cli_counselor_desk, cli_operator, reaching_redis
from ivr.cli.terminal import visible, when
from ivr.operators.counselor_desk import DeskRefused
from ivr.threads.store import Thread


def _waited_minutes(thread: Thread, now: float) -> int:
    """Until someone took it, or until now while it waits."""
    until = thread.taken_at if thread.state == "held" and thread.taken_at else now
    return int(max(0.0, until - thread.opened) // 60)


def _row(thread: Thread, now: float) -> str:
    crisis = "  crisis" if thread.crisis_at is not None else ""
    return (
        f"{thread.id}  {thread.state:<7} {thread.language:<3} since {when(thread.opened)} UTC"
        f"  waited {_waited_minutes(thread, now):>3} min  held by {thread.holder or '-'}{crisis}"
    )


@click.group("conversations")
def conversations_group() -> None:
    """Text conversations with a person: who holds each, and their messages."""


@conversations_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON lines.")
def conversations_list(as_json: bool) -> None:
    """Open conversations, waiting and held (no numbers, no words)."""
    with reaching_redis():
        found = cli_counselor_desk().all_open()
    now = time.time()
    for thread in sorted(found, key=lambda t: (t.opened, t.id)):
        if as_json:
            shown = {
                "id": thread.id, "state": thread.state, "language": thread.language,
                "opened": thread.opened, "taken_at": thread.taken_at, "holder": thread.holder,
                "waited_minutes": _waited_minutes(thread, now),
                "crisis": thread.crisis_at is not None,
            }  # fmt: skip
            click.echo(json.dumps(shown, sort_keys=True))
        else:
            click.echo(_row(thread, now))
    if not found and not as_json:
        click.echo("No open conversations.")


@conversations_group.command("show")
@click.argument("thread_id", metavar="REF")
def conversations_show(thread_id: str) -> None:
    """One conversation and its messages, the number masked (audited)."""
    with reaching_redis():
        try:
            view = cli_counselor_desk().view(thread_id, cli_operator(), via="cli")
        except DeskRefused as refused:
            raise click.ClickException(str(refused)) from None
    click.echo(_row(view.thread, time.time()))
    click.echo(f"number: {view.number or '-'}")
    for message in view.messages:
        crisis = " [crisis]" if message.crisis else ""
        words = visible(message.body)
        click.echo(f"{when(message.at)} {message.sender:<10} {message.status:<8}{crisis} {words}")
    if not view.messages:
        click.echo("No messages.")
