"""`helpline token …`, `helpline password …` and `helpline audit`: who may
operate the line, and what operators changed. Registered in `ivr.cli.main`; no
command here builds the Flask app, so they work while the web is down.

Every change made here is audited as "cli:<os user>"."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
import redis

from ivr.cli.support import cli_redis, cli_who
from ivr.operators.accounts import ROLES, Accounts
from ivr.operators.audit import AuditEntry, AuditLog
from ivr.roster.store import RosterStore

_ROLE = click.Choice(ROLES)
_ROLE_HELP = "admin may change; a counselor opens only the desk, as --counselor."
_COUNSELOR = click.option(
    "--counselor",
    "counselor",
    default="",
    metavar="ID",
    help="With --role counselor: the roster counselor this login is.",
)


def _check_counselor(client: redis.Redis, counselor: str) -> None:
    """A counselor's login names someone on the stored roster (when there is one)."""
    if not counselor:
        return
    roster = RosterStore(client).load()
    if roster is not None and counselor not in {c.id for c in roster.counselors}:
        raise click.ClickException(f"no counselor {counselor!r} on the roster")


def _open() -> tuple[Accounts, AuditLog]:
    client = cli_redis()
    return Accounts(client), AuditLog(client)


def _when(at: float | None) -> str:
    return "never" if at is None else f"{datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M} UTC"


@click.group("token")
def token_group() -> None:
    """Operator API tokens: create (shown once), list, revoke."""


@token_group.command("create")
@click.argument("name")
@click.option("--role", type=_ROLE, default="viewer", show_default=True, help=_ROLE_HELP)
@_COUNSELOR
def token_create(name: str, role: str, counselor: str) -> None:
    """A new token for NAME, printed once (alone on standard output)."""
    accounts, audit = _open()
    try:
        _check_counselor(cli_redis(), counselor)
        info, secret = accounts.create_token(name, role, counselor)
        after = {"name": name, "role": role} | ({"counselor": counselor} if counselor else {})
        audit.record(cli_who(), "token.create", info.id, after=after)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    click.echo(secret)
    click.echo(
        f"token {info.id} for {name} ({role}). It is shown this once; only its hash is kept.\n"
        "Send it to the API as `Authorization: Bearer <token>` (under /api/v1/),\n"
        "or paste it on the /admin login page.\n"
        f"Revoke it with `helpline token revoke {info.id}`.",
        err=True,
    )


@token_group.command("list")
def token_list() -> None:
    """Live tokens, oldest first (never the tokens themselves)."""
    accounts, _ = _open()
    try:
        tokens = accounts.list_tokens()
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    if not tokens:
        click.echo("no tokens: make one with `helpline token create NAME`")
    for info in tokens:
        click.echo(
            f"{info.id}  {info.name:<20} {info.role:<6}  created {_when(info.created)}, "
            f"last used {_when(info.last_used)}"
        )


@token_group.command("revoke")
@click.argument("token_id", metavar="ID")
def token_revoke(token_id: str) -> None:
    """Revoke token ID at once: the API refuses it, its sessions end."""
    accounts, audit = _open()
    try:
        info = accounts.token(token_id)
        if info is None or not accounts.revoke_token(token_id):
            raise click.ClickException(f"no token {token_id} (see `helpline token list`)")
        audit.record(
            cli_who(), "token.revoke", token_id, before={"name": info.name, "role": info.role}
        )
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    click.echo(f"revoked token {token_id} of {info.name}")


@click.group("password")
def password_group() -> None:
    """Passwords for the admin pages' login."""


@password_group.command("set")
@click.argument("name")
@click.option("--role", type=_ROLE, default="viewer", show_default=True, help=_ROLE_HELP)
@_COUNSELOR
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
def password_set(name: str, role: str, counselor: str, password_stdin: bool) -> None:
    """Set (or replace) NAME's password and role; asked for, hidden, twice."""
    accounts, audit = _open()
    if password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        _check_counselor(cli_redis(), counselor)
        before = accounts.password_role(name)
        accounts.set_password(name, secret, role, counselor)
        audit.record(
            cli_who(),
            "password.set",
            name,
            before=None if before is None else {"role": before},
            after={"role": role} | ({"counselor": counselor} if counselor else {}),
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    click.echo(f"{'changed' if before else 'set'} the password of {name} ({role})")


@password_group.command("remove")
@click.argument("name")
def password_remove(name: str) -> None:
    """Remove NAME's password: they can no longer log in with it."""
    accounts, audit = _open()
    try:
        before = accounts.password_role(name)
        if before is None or not accounts.remove_password(name):
            raise click.ClickException(f"{name} has no password")
        audit.record(cli_who(), "password.remove", name, before={"role": before})
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    click.echo(f"removed the password of {name}")


@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--logins", is_flag=True, help="Failed logins instead (kept apart from changes).")
def audit_command(limit: int, logins: bool) -> None:
    """What operators changed, newest first (phone numbers masked)."""
    _, audit = _open()
    try:
        entries = audit.logins(limit) if logins else audit.recent(limit)
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach Redis: {error}") from error
    if not entries:
        click.echo("no changes recorded yet")
    for entry in entries:
        click.echo(_audit_line(entry))


def _audit_line(entry: AuditEntry) -> str:
    at = datetime.fromtimestamp(entry.at, UTC)
    line = f"{at:%Y-%m-%d %H:%M:%S} UTC  {entry.who:<16} {entry.action:<18} {entry.target}"
    if entry.before is not None:
        line += f"\n    before: {_compact(entry.before)}"
    if entry.after is not None:
        line += f"\n    after:  {_compact(entry.after)}"
    return line


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
