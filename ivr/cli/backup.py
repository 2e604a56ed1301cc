"""`helpline backup FILE` and `helpline restore FILE`: what operators
configured, to a file and back (the document is `ivr.operators.backup`). Registered in
`ivr.cli.main`; neither builds the Flask app, so both work while the web is down.
Both are audited as "cli:<os user>"."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ivr.cli.support import cli_redis, cli_settings, cli_who, reaching_redis
from ivr.operators.audit import AuditLog
from ivr.operators.backup import (
    BackupError,
    NotEmpty,
    RestoreUncertain,
    collect,
    configured,
    dumps,
    parse,
    restore,
    summary,
)

_PRIVATE = 0o600


@click.command("backup")
@click.argument("file", metavar="FILE")
def backup_command(file: str) -> None:
    """Write what operators configured to FILE ("-": standard output).

    One JSON document: the roster, operator tokens' and passwords' hashes,
    blocked numbers and opt-outs (by keyed hash only, never a caller's
    number), the settings in force (no secrets), a copy of the audit log, and
    a checksum. Nothing about calls, texts or callbacks.

    The roster holds the counselors' phone numbers in clear (they are rung
    from it), and the password hashes can be attacked offline: FILE is
    written with mode 0600 (its owner only) and replaced whole, never half
    written. Standard output gets no such protection. Keep backups as you keep
    the Redis data; and an old one brings back tokens and passwords removed
    since it was taken.

    Restore with `helpline restore FILE`, under the same HELPLINE_SECRET_KEY.
    """
    settings = cli_settings()
    with reaching_redis():
        client = cli_redis(settings)
        document = collect(client, settings)
        counts = _counts(document)
        text = dumps(document)
        if file == "-":
            click.echo(text, nl=False)
        else:
            _write_private(Path(file), text)
        AuditLog(client).record(cli_who(), "backup.create", file, after=counts)
    where = "standard output" if file == "-" else f"{file} (mode 0600)"
    click.echo(
        f"backed up {summary(counts)} and {len(document['audit'])} audit entries to {where}",
        err=True,
    )


@click.command("restore")
@click.argument("file", metavar="FILE")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the roster, tokens, passwords and blocks configured now (opt-outs are kept).",
)
@click.option("--check", is_flag=True, help="Only check FILE and say what it holds.")
def restore_command(file: str, replace: bool, check: bool) -> None:
    """Restore a backup made by `helpline backup` ("-": standard input).

    The whole file is checked first: its format version, its checksum, that
    it was taken under this HELPLINE_SECRET_KEY (blocked numbers and opt-outs
    are keyed by it), and every record. Any problem refuses it whole. A line
    that has a roster, token, password or block already is left alone unless
    --replace is given. Then everything is written at once, or nothing is.

    Opt-outs are added to those present, never removed: a STOP sent since the
    backup still holds. Blocks that have ended since the backup are left out.
    Settings are not restored (they live in the environment); those that
    differ from the backup's are listed. The restore is audited.
    """
    settings = cli_settings()
    try:
        backup = parse(_read(file), settings.secret_key)
    except BackupError as error:
        raise _refused(file, error.problems) from None
    if check:
        click.echo(
            f"{file}: a good backup of {backup.created}: {summary(backup.counts())}, "
            f"{backup.audit_entries} audit entries"
        )
        return
    with reaching_redis():
        client = cli_redis(settings)
        before = configured(client)
        try:
            restored = restore(client, backup, settings, replace=replace)
        except NotEmpty as error:
            raise _refused(
                file,
                [*error.problems, "give --replace to replace it with the backup's"],
            ) from None
        except RestoreUncertain as error:
            raise click.ClickException(f"{file}: " + "\n  ".join(error.problems)) from None
        except BackupError as error:
            raise _refused(file, error.problems) from None
        AuditLog(client).record(
            cli_who(),
            "backup.restore",
            file,
            before=before,
            after=restored.counts | {"backup_of": backup.created, "replace": replace},
        )
    click.echo(f"restored {summary(restored.counts)} from the backup of {backup.created}")
    if restored.roster_version:
        click.echo(f"the roster is now version {restored.roster_version}")
    there = restored.counts["optouts"] - restored.optouts_added
    click.echo(
        f"opt-outs: {restored.optouts_added} added, {there} there already "
        "(a restore never removes one)"
    )
    if restored.blocks_ended:
        click.echo(f"{restored.blocks_ended} block(s) had ended since the backup: left out")
    if restored.sessions_ended:
        click.echo(f"{restored.sessions_ended} admin page session(s) ended: sign in again")
    if restored.settings_changed:
        click.echo("settings differ from the backup's (not changed; they live in the environment):")
        for line in restored.settings_changed:
            click.echo(f"  {line}")


def _counts(document: dict[str, object]) -> dict[str, int]:
    data = document["data"]
    assert isinstance(data, dict)
    return {"roster": int(data["roster"] is not None)} | {
        section: len(data[section]) for section in ("tokens", "passwords", "blocks", "optouts")
    }


def _refused(file: str, problems: list[str]) -> click.ClickException:
    return click.ClickException(
        f"{file}: refused, nothing was restored:\n  " + "\n  ".join(problems)
    )


def _read(file: str) -> str:
    try:
        if file == "-":
            return sys.stdin.read()
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {file}: {error}") from None


def _write_private(path: Path, text: str) -> None:
    """TEXT to PATH, readable by its owner only, whole or not at all: written
    beside it, then renamed over it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), _PRIVATE)  # whatever the file was, whatever the umask
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {path}: {error}") from None
