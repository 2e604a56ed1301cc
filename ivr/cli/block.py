"""`helpline block add|remove|list`: the Blocked page from a terminal, through
the same `Desk` and the same audited actions as the pages and the API.
Numbers are printed masked; a change is audited as "cli:<os user>"."""

from __future__ import annotations

import json

import click

from ivr.callers.blocklist import DEFAULT_SECONDS, Block, BlockError, duration_seconds
from ivr.cli.desk import cli_desk, cli_who, reaching_redis
from ivr.operators.blocking import block_number, unblock_number


@click.group("block")
def block_group() -> None:
    """Numbers whose calls are refused and texts unanswered, each for a while.

    A text that reads as a crisis is still answered with the 911/988 guidance,
    blocked or not (no counselor is alerted); see docs/operators.md."""


def _refused(error: BlockError) -> click.ClickException:
    hint = {"number": "NUMBER", "duration": "--for", "reason": "--reason"}.get(error.field)
    return click.BadParameter(str(error), param_hint=hint)


@block_group.command("add")
@click.argument("number")
@click.option("--reason", required=True, help="Why: shown on the list and in the audit log.")
@click.option(
    "--for",
    "length",
    default=f"{DEFAULT_SECONDS // 86400}d",
    show_default=True,
    metavar="DURATION",
    help="How long: 12h, 30d, 2w (an hour to 365 days). It ends by itself.",
)
def block_add(number: str, reason: str, length: str) -> None:
    """Block NUMBER (or change its block): its calls are refused, its texts
    get no reply."""
    try:
        seconds = duration_seconds(length)
        with reaching_redis():
            block = block_number(cli_desk(), cli_who(), number, reason, seconds=seconds)
    except BlockError as error:
        raise _refused(error) from None
    click.echo(f"{block.number} blocked until {block.until:%Y-%m-%d %H:%M} UTC ({block.id})")


@block_group.command("remove")
@click.argument("number")
def block_remove(number: str) -> None:
    """Lift the block on NUMBER."""
    try:
        with reaching_redis():
            removed = unblock_number(cli_desk(), cli_who(), number)
    except BlockError as error:
        raise _refused(error) from None
    if removed is None:
        raise click.ClickException("that number is not blocked (see `helpline block list`)")
    click.echo(f"{removed.number} unblocked")


@block_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="As JSON, for scripts.")
def block_list(as_json: bool) -> None:
    """Blocks in force, the soonest to end first; numbers masked."""
    with reaching_redis():
        blocks = cli_desk().blocklist.list()
    if as_json:
        click.echo(json.dumps([_as_json(b) for b in blocks], indent=2, ensure_ascii=False))
        return
    if not blocks:
        click.echo("no number is blocked")
    for block in blocks:
        line = (
            f"{block.number:<6} until {block.until:%Y-%m-%d %H:%M} UTC  by {block.by}  "
            f"{block.reason}  ({block.id})"
        )
        if block.crisis_texts:
            assert block.last_crisis is not None
            line += (
                f"\n    {block.crisis_texts} crisis text(s) answered while blocked, "
                f"last {block.last_crisis:%Y-%m-%d %H:%M} UTC"
            )
        click.echo(line)


def _as_json(block: Block) -> dict[str, object]:
    return {
        "id": block.id,
        "number": block.number,
        "reason": block.reason,
        "by": block.by,
        "created": block.created.isoformat(),
        "until": block.until.isoformat(),
        "crisis_texts": block.crisis_texts,
        "last_crisis": block.last_crisis.isoformat() if block.last_crisis else None,
    }
