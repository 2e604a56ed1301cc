"""`helpline now`, `helpline voicemail list|done`, `helpline figures` and
`helpline optout check`: what the admin pages show, in a terminal, for scripts
and for when the web is down. Everything is read through the same `Overview`
as the pages and the API, so the three surfaces cannot disagree, and every
change or lookup is audited as "cli:<os user>" with the API's action names.

Callers' numbers are masked in everything printed here (the `Overview` hands
them out masked); `helpline callbacks show --reveal` is the one command that
prints a number in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from ivr.cli.desk import cli_desk, cli_who, reaching_redis
from ivr.operators.overview import MAX_DAYS, Board, OptOutLookupError, Voicemail
from ivr.platform.privacy import mask
from ivr.routing.figures import DayFigures
from ivr.web.api.schemas import DayFigures as ApiDayFigures

DEFAULT_FIGURE_DAYS = 14  # as on the figures page
NOBODY_ON_CALL = "Nobody is on call: callers are offered voicemail and the backup line."


# -- now ------------------------------------------------------------------------------


@click.command("now")
@click.option("--json", "as_json", is_flag=True, help="The same board as JSON, for scripts.")
def now_command(as_json: bool) -> None:
    """The Now page: on call, waiting, talking, today.

    Who is on call (busy or free), callers waiting and for how long, calls
    connected with their counselor and talk time, today's answer rate, and
    the open callbacks and new voicemails; numbers masked."""
    with reaching_redis():
        desk = cli_desk()
        board = desk.overview.board(desk.store.load())
    if as_json:
        _echo_json(board_json(board))
        return
    for line in board_lines(board):
        click.echo(line)


def board_json(board: Board) -> dict[str, Any]:
    """The board with the API's field names, so a script can use either."""
    return {
        "at": board.at.isoformat(),
        "on_call": [asdict(person) for person in board.on_call],
        "waiting": [asdict(call) for call in board.waiting],
        "connected": [asdict(call) for call in board.connected],
        "today": day_json(board.today),
        "open_callbacks": board.open_callbacks,
        "new_voicemails": board.new_voicemails,
        "notes": list(board.notes),
        "failed_jobs": board.failed_jobs,
        "urgent": [asdict(work) for work in board.urgent],
    }


def board_lines(board: Board) -> list[str]:
    today = board.today
    lines = [f"The line at {board.at:%Y-%m-%d %H:%M:%S} UTC", *board.notes]
    if board.failed_jobs:
        lines.append(f"{board.failed_jobs} failed jobs: see `helpline jobs failed`")
    lines.append(
        f"{len(board.waiting)} waiting · {len(board.connected)} connected · "
        f"answered today ({board.zone}) {today.answered} of {today.offered} "
        f"({_percent(today.answer_rate, 0)}) · "
        f"{board.open_callbacks} callbacks open · {board.new_voicemails} new voicemails"
    )
    if board.urgent:
        lines += ["", f"URGENT, not taken yet ({len(board.urgent)}): `helpline urgent claim REF`"]
        lines += _table(
            [w.reference, w.kind, w.language, f"for {w.waiting_minutes} min", f"step {w.step}"]
            for w in board.urgent
        )
    lines += ["", f"On call ({len(board.on_call)})"]
    if not board.on_call:
        lines.append("  " + NOBODY_ON_CALL)
    lines += _table(
        [p.id, p.name, ", ".join(p.languages), p.phone, "on a call" if p.busy else "free"]
        for p in board.on_call
    )
    lines += ["", f"Waiting ({len(board.waiting)})"]
    if not board.waiting:
        lines.append("  Nobody is waiting.")
    lines += _table(
        [c.caller, c.language, c.state, f"for {_duration(c.waited_seconds)}"] for c in board.waiting
    )
    lines += ["", f"Connected ({len(board.connected)})"]
    if not board.connected:
        lines.append("  No calls in progress.")
    lines += _table(
        [
            c.caller,
            c.language,
            f"with {c.counselor or '?'}",
            f"talking {_duration(c.talking_seconds)}",
            f"waited {_duration(c.waited_seconds)}",
        ]
        for c in board.connected
    )
    return lines


# -- voicemail ------------------------------------------------------------------------


@click.group("voicemail")
def voicemail_group() -> None:
    """Voicemails left for the line: list them, mark them done."""


@voicemail_group.command("list")
@click.option("--all", "include_done", is_flag=True, help="Those marked done too.")
def voicemail_list(include_done: bool) -> None:
    """Voicemails, newest first, callers masked; only new ones unless --all."""
    with reaching_redis():
        found = cli_desk().overview.voicemails(include_done=include_done)
    if not found:
        click.echo("no voicemails" if include_done else "no new voicemails")
    for line in _table(_voicemail_row(v) for v in found):
        click.echo(line)


def _voicemail_row(voicemail: Voicemail) -> list[str]:
    return [
        voicemail.id,
        voicemail.status,
        f"{voicemail.created:%Y-%m-%d %H:%M} UTC",
        _duration(voicemail.duration_seconds),
        voicemail.language,
        voicemail.caller,
        f"callback {voicemail.callback}" if voicemail.callback else "no callback",
        voicemail.recording_url,
    ]


@voicemail_group.command("done")
@click.argument("sid", metavar="SID")
def voicemail_done(sid: str) -> None:
    """Mark voicemail SID done: heard and dealt with (audited)."""
    with reaching_redis():
        desk = cli_desk()
        changed = desk.overview.mark_voicemail(sid, "done", cli_who())
        if changed is None:
            raise click.ClickException(f"no voicemail {sid} (see `helpline voicemail list --all`)")
        before, after = changed
        desk.audit.record(cli_who(), "voicemail.status", sid, before.status, after.status)
    click.echo(f"voicemail {sid} done")


# -- figures --------------------------------------------------------------------------


@click.command("figures")
@click.option(
    "--days",
    default=DEFAULT_FIGURE_DAYS,
    show_default=True,
    type=click.IntRange(1, MAX_DAYS),
    help="How many days back, today included (the line's days: HELPLINE_TIMEZONE).",
)
@click.option("--json", "as_json", is_flag=True, help="The same as JSON, oldest day first.")
def figures_command(days: int, as_json: bool) -> None:
    """Calls per day, and answers by counselor.

    Offered, answered, abandoned and unanswered calls per day (a local date in
    the line's time zone, HELPLINE_TIMEZONE), with the answer rate and average
    speed of answer, newest day first, a total for the period, then answers by
    counselor over it."""
    with reaching_redis():
        overview = cli_desk().overview
        series = overview.figures(days)
    by_counselor = answered_by(series)
    if as_json:
        _echo_json({"days": [day_json(d) for d in series], "answered_by": by_counselor})
        return
    for line in figures_lines(series, by_counselor, overview.zone_name):
        click.echo(line)


def answered_by(series: Sequence[DayFigures]) -> dict[str, int]:
    """Answers per counselor over the whole period, most first."""
    totals: dict[str, int] = {}
    for day in series:
        for counselor, count in day.answered_by.items():
            totals[counselor] = totals.get(counselor, 0) + count
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def figures_lines(
    series: Sequence[DayFigures], by_counselor: dict[str, int], zone_name: str
) -> list[str]:
    """Newest day first, as on the figures page, then the period's total. The
    days are local dates in ZONE_NAME, the line's time zone, named in the header."""
    counts = ("offered", "answered", "abandoned", "unanswered", "answer rate", "avg answer")
    header = [f"day ({zone_name})", *counts]
    rows = [header, *(_figures_row(d) for d in reversed(series)), _figures_row(_total(series))]
    lines = _table(rows, right=range(1, len(header)), indent="")
    lines += ["", f"Answered by counselor, last {len(series)} days"]
    if not by_counselor:
        lines.append("  no calls answered")
    lines += _table(([name, str(count)] for name, count in by_counselor.items()), right={1})
    return lines


def _figures_row(day: DayFigures) -> list[str]:
    speed = day.average_speed_of_answer
    return [
        day.day,
        str(day.offered),
        str(day.answered),
        str(day.abandoned),
        str(day.unanswered),
        _percent(day.answer_rate, 1),
        "—" if speed is None else f"{speed:.1f} s",
    ]


def _total(series: Sequence[DayFigures]) -> DayFigures:
    return DayFigures(
        day="total",
        offered=sum(d.offered for d in series),
        answered=sum(d.answered for d in series),
        abandoned=sum(d.abandoned for d in series),
        unanswered=sum(d.unanswered for d in series),
        answer_wait_seconds=sum(d.answer_wait_seconds for d in series),
        answered_by=answered_by(series),
    )


def day_json(day: DayFigures) -> dict[str, Any]:
    """One day exactly as `GET /api/v1/figures` gives it."""
    shown: dict[str, Any] = ApiDayFigures.of(day).model_dump(mode="json")
    return shown


# -- opt-outs -------------------------------------------------------------------------


@click.group("optout")
def optout_group() -> None:
    """Opt-outs, checked one number at a time.

    They are kept only as keyed hashes of numbers, so there is no list to show:
    only whether a given number is on it."""


@optout_group.command("check")
@click.argument("number")
def optout_check(number: str) -> None:
    """Whether NUMBER asked to hear nothing more from the line (audited, masked)."""
    with reaching_redis():
        desk = cli_desk()
        try:
            opted_out = desk.overview.opted_out(number)
        except OptOutLookupError as error:
            raise click.BadParameter(str(error), param_hint="NUMBER") from None
        desk.audit.record(cli_who(), "optout.lookup", mask(number))
    if opted_out:
        click.echo(f"{mask(number)} has opted out: the line sends it nothing until it opts in")
    else:
        click.echo(f"{mask(number)} has not opted out")


# -- text helpers ---------------------------------------------------------------------


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _table(
    rows: Iterable[Sequence[str]], right: Iterable[int] = (), indent: str = "  "
) -> list[str]:
    """Rows in aligned columns (numbers right-aligned), for eyes and for `cut`."""
    grid = [list(row) for row in rows]
    if not grid:
        return []
    widths = [max(len(row[n]) for row in grid) for n in range(len(grid[0]))]
    numeric = set(right)
    return [
        indent
        + "  ".join(
            cell.rjust(widths[n]) if n in numeric else cell.ljust(widths[n])
            for n, cell in enumerate(row)
        ).rstrip()
        for row in grid
    ]


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"


def _percent(rate: float | None, decimals: int) -> str:
    return "—" if rate is None else f"{rate * 100:.{decimals}f}%"
