"""`helpline roster counselor|shift|override add|edit|remove` and `helpline
roster timezone`: the roster edits of the admin pages and the API, for
scripts and for when the web is down. The same core (`ivr.roster.edit`) and
the same rules; every change is audited as "cli:<os user>".

An option left out is left as it is; `--no-…` clears an optional field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import redis

from ivr.cli.support import cli_redis, cli_who
from ivr.operators.audit import AuditLog
from ivr.platform.privacy import mask
from ivr.roster.edit import EditError, Invalid, RosterEditor
from ivr.roster.model import ROLES
from ivr.roster.parse import RosterError
from ivr.roster.store import RosterStore

T = TypeVar("T")

_OPTION_OF_FIELD = {
    "id": "ID",
    "counselor": "COUNSELOR",
    "languages": "--language",
    "timezone": "--tz",
    "valid_from": "--from",
    "valid_until": "--until",
}
"""Fields whose option is not simply --<field>, for naming the one at fault."""


def _run(edit: Callable[[RosterEditor, str], T]) -> T:
    """Make one edit with the line's roster and audit log; a refusal is
    printed field by field and exits 1, nothing changed."""
    client = cli_redis()
    editor = RosterEditor(RosterStore(client), AuditLog(client))
    try:
        return edit(editor, cli_who())
    except Invalid as error:
        for problem in error.problems:
            where = _OPTION_OF_FIELD.get(problem.field, f"--{problem.field}")
            click.echo(f"{where}: {problem.message}" if problem.field else problem.message)
        raise click.ClickException(f"{len(error.problems)} problem(s); nothing changed") from None
    except EditError as error:
        raise click.ClickException(f"{error}; nothing changed") from None
    except redis.RedisError as error:
        raise click.ClickException(f"cannot reach the roster in Redis: {error}") from error
    except RosterError as error:
        raise click.ClickException(f"the stored roster does not validate:\n{error}") from error


def _given(**options: Any) -> dict[str, Any]:
    """The options that were given (None: left out)."""
    return {name: value for name, value in options.items() if value is not None}


def _listed(text: str | None) -> list[str] | None:
    """ "mon,tue" → ["mon", "tue"]; "" → [] (clears a list)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _cleared(given: dict[str, Any], **flags: bool) -> dict[str, Any]:
    """Fields named by a --no-… flag that was given, set to None: cleared."""
    return given | {name: None for name, flag in flags.items() if flag}


def _counselor_line(item: dict[str, Any]) -> str:
    state = "" if item["active"] else ", inactive"
    rank = "" if item["priority"] is None else f", priority {item['priority']}"
    role = ", supervisor" if item.get("role") == "supervisor" else ""
    return (
        f"{item['id']}: {item['name']} {mask(item['phone'])} "
        f"{', '.join(item['languages'])}{rank}{state}{role}"
    )


def _shift_line(item: dict[str, Any]) -> str:
    dates = ""
    if item["valid_from"] or item["valid_until"]:
        dates = f" from {item['valid_from'] or '…'} until {item['valid_until'] or '…'}"
    return (
        f"{item['id']}: {item['counselor']} {','.join(item['days'])} "
        f"{item['start']}-{item['end']} {item['timezone']}{dates}"
    )


def _override_line(item: dict[str, Any]) -> str:
    off = f", replacing {', '.join(item['replaces'])}" if item["replaces"] else ""
    note = f" ({item['note']})" if item["note"] else ""
    return (
        f"{item['id']}: {item['counselor']} {item['start']} to {item['end']} "
        f"{item['timezone']}{off}{note}"
    )


# -- counselors ---------------------------------------------------------------


@click.group("counselor")
def counselor_group() -> None:
    """Add, change or remove a counselor."""


_name = click.option("--name", help="For people.")
_phone = click.option("--phone", help="E.164, like +12025550101.")
_priority = click.option("--priority", type=int, help="Lower rings first.")


@counselor_group.command("add")
@click.argument("ident", metavar="ID")
@_name
@_phone
@click.option(
    "--language", "-l", "languages", multiple=True, help="A code like en; repeat for more."
)
@_priority
@click.option("--inactive", is_flag=True, help="On the roster, never on call (leave, training).")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=None,
    help="supervisor: never rung for callers; the ladder's step after the counselors.",
)
def counselor_add(
    ident: str,
    name: str | None,
    phone: str | None,
    languages: tuple[str, ...],
    priority: int | None,
    inactive: bool,
    role: str | None,
) -> None:
    """Add counselor ID (--name, --phone and --language are needed)."""
    data = _given(
        id=ident,
        name=name,
        phone=phone,
        languages=list(languages) or None,
        priority=priority,
        active=False if inactive else None,
        role=role,
    )
    added = _run(lambda editor, who: editor.add_counselor(data, who))
    click.echo(f"added counselor {_counselor_line(added)}")


@counselor_group.command("edit")
@click.argument("ident", metavar="ID")
@_name
@_phone
@click.option("--language", "-l", "languages", multiple=True, help="Replaces the list; repeat.")
@_priority
@click.option("--no-priority", is_flag=True, help="Ring after those with a priority.")
@click.option("--active/--inactive", default=None, help="Inactive: never on call.")
@click.option("--role", type=click.Choice(ROLES), default=None, help="counselor or supervisor.")
def counselor_edit(
    ident: str,
    name: str | None,
    phone: str | None,
    languages: tuple[str, ...],
    priority: int | None,
    no_priority: bool,
    active: bool | None,
    role: str | None,
) -> None:
    """Change counselor ID's fields given; the id itself stays."""
    data = _given(
        name=name,
        phone=phone,
        languages=list(languages) or None,
        priority=priority,
        active=active,
        role=role,
    )
    data = _cleared(data, priority=no_priority)
    changed = _run(lambda editor, who: editor.update_counselor(ident, data, who))
    click.echo(f"changed counselor {_counselor_line(changed)}")


@counselor_group.command("remove")
@click.argument("ident", metavar="ID")
def counselor_remove(ident: str) -> None:
    """Remove counselor ID, once no shift or override names them."""
    _run(lambda editor, who: editor.remove_counselor(ident, who))
    click.echo(f"removed counselor {ident}")


# -- shifts ---------------------------------------------------------------------


@click.group("shift")
def shift_group() -> None:
    """Add, change or remove a weekly shift (ids: `helpline roster show`)."""


_days = click.option("--days", help="Comma-separated: mon,tue,… sun.")
_start = click.option("--start", help='Local "HH:MM".')
_end = click.option("--end", help='Local "HH:MM" or "24:00"; at or before --start: next day.')
_tz = click.option("--tz", "zone_name", help="IANA zone (default the roster's).")
_from = click.option("--from", "valid_from", help="First day, YYYY-MM-DD (inclusive).")
_until = click.option("--until", "valid_until", help="Last day, YYYY-MM-DD (inclusive).")
_id = click.option("--id", "ident", help="An id of your own (default: a new one).")


@shift_group.command("add")
@click.argument("counselor")
@_days
@_start
@_end
@_tz
@_from
@_until
@_id
def shift_add(
    counselor: str,
    days: str | None,
    start: str | None,
    end: str | None,
    zone_name: str | None,
    valid_from: str | None,
    valid_until: str | None,
    ident: str | None,
) -> None:
    """Add a weekly shift for COUNSELOR (--days, --start and --end are needed)."""
    data = _given(
        id=ident,
        counselor=counselor,
        days=_listed(days),
        start=start,
        end=end,
        timezone=zone_name,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    added = _run(lambda editor, who: editor.add_shift(data, who))
    click.echo(f"added shift {_shift_line(added)}")


@shift_group.command("edit")
@click.argument("ident", metavar="ID")
@click.option("--counselor", help="Give the shift to another counselor.")
@_days
@_start
@_end
@_tz
@_from
@_until
@click.option("--no-from", is_flag=True, help="No first day.")
@click.option("--no-until", is_flag=True, help="No last day.")
def shift_edit(
    ident: str,
    counselor: str | None,
    days: str | None,
    start: str | None,
    end: str | None,
    zone_name: str | None,
    valid_from: str | None,
    valid_until: str | None,
    no_from: bool,
    no_until: bool,
) -> None:
    """Change shift ID's fields given."""
    data = _given(
        counselor=counselor,
        days=_listed(days),
        start=start,
        end=end,
        timezone=zone_name,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    data = _cleared(data, valid_from=no_from, valid_until=no_until)
    changed = _run(lambda editor, who: editor.update_shift(ident, data, who))
    click.echo(f"changed shift {_shift_line(changed)}")


@shift_group.command("remove")
@click.argument("ident", metavar="ID")
def shift_remove(ident: str) -> None:
    """Remove shift ID."""
    _run(lambda editor, who: editor.remove_shift(ident, who))
    click.echo(f"removed shift {ident}")


# -- overrides ------------------------------------------------------------------


@click.group("override")
def override_group() -> None:
    """Add, change or remove a dated override (ids: `helpline roster show`)."""


_when_start = click.option("--start", help='Local "YYYY-MM-DDTHH:MM".')
_when_end = click.option("--end", help='Local "YYYY-MM-DDTHH:MM".')
_replaces = click.option("--replaces", help="Counselors off their shifts meanwhile: a,b.")
_note = click.option("--note", help="For people.")


@override_group.command("add")
@click.argument("counselor")
@_when_start
@_when_end
@_tz
@_replaces
@_note
@_id
def override_add(
    counselor: str,
    start: str | None,
    end: str | None,
    zone_name: str | None,
    replaces: str | None,
    note: str | None,
    ident: str | None,
) -> None:
    """Put COUNSELOR on call from --start to --end (both needed)."""
    data = _given(
        id=ident,
        counselor=counselor,
        start=start,
        end=end,
        timezone=zone_name,
        replaces=_listed(replaces),
        note=note,
    )
    added = _run(lambda editor, who: editor.add_override(data, who))
    click.echo(f"added override {_override_line(added)}")


@override_group.command("edit")
@click.argument("ident", metavar="ID")
@click.option("--counselor", help="Put another counselor on call instead.")
@_when_start
@_when_end
@_tz
@_replaces
@_note
@click.option("--no-note", is_flag=True, help="Drop the note.")
def override_edit(
    ident: str,
    counselor: str | None,
    start: str | None,
    end: str | None,
    zone_name: str | None,
    replaces: str | None,
    note: str | None,
    no_note: bool,
) -> None:
    """Change override ID's fields given (--replaces "" replaces nobody)."""
    data = _given(
        counselor=counselor,
        start=start,
        end=end,
        timezone=zone_name,
        replaces=_listed(replaces),
        note=note,
    )
    data = _cleared(data, note=no_note)
    changed = _run(lambda editor, who: editor.update_override(ident, data, who))
    click.echo(f"changed override {_override_line(changed)}")


@override_group.command("remove")
@click.argument("ident", metavar="ID")
def override_remove(ident: str) -> None:
    """Remove override ID."""
    _run(lambda editor, who: editor.remove_override(ident, who))
    click.echo(f"removed override {ident}")


# -- the roster's zone ----------------------------------------------------------


@click.command("timezone")
@click.argument("zone_name", metavar="ZONE", required=False)
def timezone_command(zone_name: str | None) -> None:
    """Show the roster's zone, or make it ZONE: the zone times are shown in and
    new shifts default to. No shift or override moves."""
    if zone_name is None:
        click.echo(_run(lambda editor, who: editor.timezone()))
        return
    changed = _run(lambda editor, who: editor.set_timezone(zone_name, who))
    click.echo(f"the roster's time zone is now {changed}")
