"""`helpline roster …`: import, export and show the roster, who is on call at
a time, and where cover is short; the `counselor`, `shift` and `override`
subcommands (`ivr.cli.roster_edit`) change it item by item. Registered in
`ivr.cli.main` with `main.add_command(roster)`; no command here builds the Flask
app, so all of them work while the web is down."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import redis

from ivr.cli.roster_edit import counselor_group, override_group, shift_group, timezone_command
from ivr.cli.support import cli_redis, cli_who
from ivr.operators.audit import AuditLog
from ivr.platform.privacy import mask
from ivr.roster.export import dump_yaml
from ivr.roster.localtime import format_clock, format_local, zone
from ivr.roster.model import DAYS, Roster, Shift
from ivr.roster.oncall import Gap, coverage_gaps, who_is_on_call
from ivr.roster.parse import RosterError, load_roster_file
from ivr.roster.store import RosterStore, StoredRoster

GAPS_SHOWN_AFTER_IMPORT = 5


@click.group(cls=click.Group)
def roster() -> None:
    """Counselor rosters: import, export, show, edit, who is on call, coverage gaps."""


roster.add_command(counselor_group)
roster.add_command(shift_group)
roster.add_command(override_group)
roster.add_command(timezone_command)


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file; store nothing.")
def import_(file: Path, check: bool) -> None:
    """Validate FILE and make it the roster; on any problem, change nothing."""
    try:
        new = load_roster_file(file)
    except RosterError as error:
        for problem in error.problems:
            click.echo(str(problem))
        click.echo(f"{len(error.problems)} problem(s); nothing imported", err=True)
        sys.exit(1)
    summary = (
        f"{len(new.counselors)} counselors ({sum(c.active for c in new.counselors)} active), "
        f"{len(new.shifts)} shifts, {len(new.overrides)} overrides"
    )
    if check:
        click.echo(f"{file}: roster OK: {summary}")
    else:
        try:
            version = _import(new, file)
        except redis.RedisError as error:
            raise click.ClickException(f"cannot store the roster in Redis: {error}") from error
        click.echo(f"imported {file}: {summary}; roster version {version}")
    gaps = coverage_gaps(new, datetime.now(UTC))
    if gaps:
        click.secho(
            f"WARNING: {len(gaps)} coverage gap(s) in the next 14 days "
            "(see `helpline roster gaps`):",
            err=True,
            fg="red",
            bold=True,
        )
        for gap in gaps[:GAPS_SHOWN_AFTER_IMPORT]:
            click.echo("  " + _gap_line(gap, zone(new.timezone)), err=True)
        if len(gaps) > GAPS_SHOWN_AFTER_IMPORT:
            click.echo(f"  … and {len(gaps) - GAPS_SHOWN_AFTER_IMPORT} more", err=True)


@roster.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export(file: Path | None) -> None:
    """Write the current roster as YAML (to FILE, or standard output)."""
    stored = _current()
    text = dump_yaml(
        stored.roster,
        header=f"helpline roster version {stored.version}, "
        f"saved {stored.saved_at:%Y-%m-%d %H:%M %Z} from {stored.source or 'unknown'}",
    )
    if file is None:
        click.echo(text, nl=False)
        return
    partial = file.with_name(file.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(file)
    click.echo(f"wrote {file}", err=True)


@roster.command("show")
def show() -> None:
    """The current roster, for people (phone numbers masked)."""
    stored = _current()
    current = stored.roster
    needs = ", ".join(f"{lang} {n}" for lang, n in sorted(current.coverage.languages.items()))
    click.echo(
        f"roster version {stored.version}, saved {stored.saved_at:%Y-%m-%d %H:%M %Z} "
        f"from {stored.source or 'unknown'}"
    )
    click.echo(f"time zone {current.timezone}; cover needed: {current.coverage.minimum} overall")
    click.echo(f"  and by language: {needs or 'none'}")
    click.echo("\ncounselors, in routing order:")
    for rank, counselor in enumerate(current.routing_order, start=1):
        mark = f"{rank:>3}." if counselor.active else "  -."
        state = "" if counselor.active else "  (inactive: never rung)"
        click.echo(
            f"{mark} {counselor.id:<12} {counselor.name:<24} {mask(counselor.phone):<7} "
            f"{', '.join(counselor.languages)}{state}"
        )
    click.echo("\nshifts (id, counselor, when):")
    for shift in current.shifts:
        click.echo(f"  {shift.id:<12} {shift.counselor:<12} {_shift_text(shift, current)}")
    if current.overrides:
        click.echo("\noverrides (id, counselor, when):")
    for override in current.overrides:
        where = "" if override.timezone == current.timezone else f" {override.timezone}"
        off = f", replacing {', '.join(override.replaces)}" if override.replaces else ""
        note = f" ({override.note})" if override.note else ""
        click.echo(
            f"  {override.id:<12} {override.counselor:<12} {format_local(override.start)} to "
            f"{format_local(override.end)}{where}{off}{note}"
        )


@roster.command("oncall")
@click.option(
    "--at",
    "at_text",
    help='When, e.g. "2026-11-01T01:30" (default now). On the night clocks fall back, '
    "a repeated time means the first; add an offset for the second (…T01:30-05:00).",
)
@click.option("--tz", "zone_name", help="Zone of --at and of the output (default the roster's).")
def oncall(at_text: str | None, zone_name: str | None) -> None:
    """Who is on call at a time, in the order they are rung."""
    current = _current().roster
    here = _zone_option(zone_name or current.timezone)
    at = _instant_option(at_text, here, "--at") if at_text else datetime.now(UTC)
    people = who_is_on_call(current, at)
    click.echo(f"on call at {_when(at, here)}:")
    if not people:
        click.echo("  nobody: callers are offered voicemail or the backup number")
    for rank, counselor in enumerate(people, start=1):
        click.echo(
            f"{rank:>3}. {counselor.id:<12} {counselor.name:<24} {mask(counselor.phone):<7} "
            f"{', '.join(counselor.languages)}"
        )


@roster.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366))
@click.option("--from", "from_text", help="Start (default now), like --at of `oncall`.")
@click.option("--tz", "zone_name", help="Zone of --from and of the output (default the roster's).")
def gaps(days: int, from_text: str | None, zone_name: str | None) -> None:
    """Every interval short of cover; exit 1 when there is any."""
    current = _current().roster
    here = _zone_option(zone_name or current.timezone)
    start = _instant_option(from_text, here, "--from") if from_text else datetime.now(UTC)
    found = coverage_gaps(current, start, days)
    for gap in found:
        click.echo(_gap_line(gap, here))
    if found:
        click.echo(
            f"{len(found)} coverage gap(s) in the {days} days from {_when(start, here)}", err=True
        )
        sys.exit(1)
    click.echo(f"no coverage gaps in the {days} days from {_when(start, here)}")


def _store() -> RosterStore:
    return RosterStore(cli_redis())


def _import(new: Roster, file: Path) -> int:
    """Make NEW the roster, written to the audit log as every other roster
    change is (`roster.import`, by the CLI's user): the versions and counts
    before and after, so the log says what was replaced by what."""
    client = cli_redis()
    store = RosterStore(client)
    try:
        before = store.load_stored()
    except RosterError:  # what is stored no longer validates: the import replaces it
        before = None
    version = store.save(new, source=str(file))
    AuditLog(client).record(
        cli_who(),
        "roster.import",
        file.name,
        _summary(before.roster, before.version) if before is not None else None,
        _summary(new, version) | {"file": str(file)},
    )
    return version


def _summary(current: Roster, version: int) -> dict[str, object]:
    return {
        "version": version,
        "counselors": len(current.counselors),
        "active": sum(c.active for c in current.counselors),
        "shifts": len(current.shifts),
        "overrides": len(current.overrides),
        "timezone": current.timezone,
    }


def _current() -> StoredRoster:
    try:
        stored = _store().load_stored()
    except redis.RedisError as error:
        raise click.ClickException(f"cannot read the roster from Redis: {error}") from error
    except RosterError as error:
        raise click.ClickException(f"the stored roster does not validate:\n{error}") from error
    if stored is None:
        raise click.ClickException("no roster yet: run `helpline roster import FILE`")
    return stored


def _zone_option(name: str) -> ZoneInfo:
    try:
        return zone(name)
    except (KeyError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


def _instant_option(text: str, here: ZoneInfo, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time like 2026-11-01T01:30", param_hint=option
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=here)


def _when(moment: datetime, here: ZoneInfo) -> str:
    local = moment.astimezone(UTC).astimezone(here)
    return f"{local:%a %Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M} UTC)"


def _gap_line(gap: Gap, here: ZoneInfo) -> str:
    length = _duration(gap.end - gap.start)
    short = gap.describe
    return (
        f"{gap.start.astimezone(here):%a %Y-%m-%d %H:%M %Z} to "
        f"{gap.end.astimezone(here):%a %Y-%m-%d %H:%M %Z} ({length}): "
        f"{gap.available} of {gap.required} {short}"
    )


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts)


def _shift_text(shift: Shift, current: Roster) -> str:
    days = ",".join(DAYS[d] for d in shift.days)
    until = " (next day)" if shift.crosses_midnight else ""
    text = f"{days:<27} {format_clock(shift.start)}-{format_clock(shift.end)}{until}"
    if shift.timezone != current.timezone:
        text += f" {shift.timezone}"
    if shift.valid_from or shift.valid_until:
        text += f" from {shift.valid_from or '…'} until {shift.valid_until or '…'}"
    return text
