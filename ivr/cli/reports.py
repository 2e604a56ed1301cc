"""`helpline report`: the reports page (issue 20) in a terminal, for when the
web is down and for scripts: the contacts of a range of the line's own days
(HELPLINE_TIMEZONE), or of a month; answered, abandoned, missed, the service
level of calls, by day and by hour of day beside the roster's coverage, and
dispositions and referrals. Counts only: no number, word or note."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from ivr.cli.desk import reaching_redis
from ivr.cli.support import cli_redis, cli_settings
from ivr.contacts.days import read_month, read_report_days
from ivr.contacts.records import Contacts
from ivr.contacts.report import (
    Bucket,
    Report,
    read_report,
    roster_on_call_by_hour,
)
from ivr.contacts.tallies import SERVICE_LEVEL_SECONDS
from ivr.roster.store import RosterStore


def _days(first: str, last: str, month: str, today: date) -> tuple[date, date]:
    """The range asked for; a usage error naming the option otherwise."""
    if month and (first or last):
        raise click.UsageError("--month or --from/--to, not both")
    if month:
        asked = read_month(month)
        if asked is None:
            raise click.UsageError("--month: write it as YYYY-MM, e.g. 2026-11 (2000 to 2100)")
        return asked
    start, end, errors = read_report_days({"from": first, "to": last}, today)
    if errors:
        raise click.UsageError("; ".join(f"--{m}" for m in errors.values()))
    return start, end


def _bucket_json(bucket: Bucket) -> dict[str, Any]:
    return {
        "offered": bucket.offered,
        "answered": bucket.answered,
        "abandoned": bucket.abandoned,
        "missed": bucket.missed,
        "calls": bucket.calls,
        "calls_answered": bucket.calls_answered,
        **{f"calls_within_{s}s": bucket.within[s] for s in SERVICE_LEVEL_SECONDS},
        "mean_call_wait_seconds": bucket.mean_wait,
    }


def report_json(report: Report, on_call: Sequence[float | None]) -> dict[str, Any]:
    return {
        "zone": report.zone,
        "complete": report.complete,
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "total": _bucket_json(report.total),
        "days": {day.isoformat(): _bucket_json(b) for day, b in report.days.items()},
        "hours": [
            {**_bucket_json(b), "on_call": on_call[hour]} for hour, b in enumerate(report.hours)
        ],
        "channels": dict(report.by_channel),
        "languages": dict(report.by_language),
        "answered_by": dict(report.by_counselor),
        "dispositions": dict(report.dispositions),
        "referrals": dict(report.referrals),
        "risks": dict(report.risks),
    }


def _share(part: int, whole: int) -> str:
    return "—" if not whole else f"{part * 100 / whole:.0f}%"


def report_lines(report: Report, on_call: Sequence[float | None]) -> list[str]:
    t = report.total
    wait = "—" if t.mean_wait is None else f"{t.mean_wait:.0f} s"
    lines = [
        f"Contacts {report.first} to {report.last} ({report.zone})",
        *(
            []
            if report.complete
            else ["  (partial: the contacts kept before this version are being counted)"]
        ),
        f"  {t.offered} contacts · answered {t.answered} ({_share(t.answered, t.offered)})"
        f" · abandoned {t.abandoned} ({_share(t.abandoned, t.offered)})"
        f" · missed {t.missed} ({_share(t.missed, t.offered)})",
        f"  calls {t.calls}: answered "
        + ", ".join(f"within {s} s {_share(t.within[s], t.calls)}" for s in SERVICE_LEVEL_SECONDS)
        + f"; average wait {wait}",
        "",
        "By day",
    ]
    for day, b in report.days.items():
        shown = (
            f"{b.offered:>5} contacts  {b.answered:>4} answered  {b.abandoned:>4} abandoned"
            f"  {b.missed:>4} missed"
            if b.offered
            else "    — no contacts"
        )
        lines.append(f"  {day} {day:%a} {shown}")
    lines += ["", f"By hour of day ({report.zone}), with counselors on call (average)"]
    for hour, b in enumerate(report.hours):
        covered = "—" if on_call[hour] is None else f"{on_call[hour]:.1f}"
        lines.append(
            f"  {hour:02d}:00 {b.offered:>5} contacts  {b.abandoned:>4} abandoned"
            f"  {b.missed:>4} missed   on call {covered}"
        )
    for title, counts in (
        ("Channels", report.by_channel),
        ("Dispositions", report.dispositions),
        ("Referrals", report.referrals),
    ):
        lines += ["", title]
        lines += [f"  {code}: {n}" for code, n in counts.most_common()] or ["  none"]
    return lines


@click.command("report")
@click.option("--from", "first", default="", metavar="YYYY-MM-DD", help="First day (local).")
@click.option("--to", "last", default="", metavar="YYYY-MM-DD", help="Last day (local).")
@click.option("--month", default="", metavar="YYYY-MM", help="A whole month instead.")
@click.option("--json", "as_json", is_flag=True, help="The same as JSON.")
def report_command(first: str, last: str, month: str, as_json: bool) -> None:
    """The reports page in a terminal: the last 30 days of the line's zone
    unless --from/--to or --month."""
    settings = cli_settings()
    zone = settings.timezone
    start, end = _days(first, last, month, datetime.now(ZoneInfo(zone)).date())
    with reaching_redis():
        client = cli_redis(settings)
        report = read_report(Contacts(client, settings.retention_seconds), zone, start, end)
        on_call = roster_on_call_by_hour(RosterStore(client).load(), zone, start, end)
    if as_json:
        click.echo(json.dumps(report_json(report, on_call), indent=1))
        return
    for line in report_lines(report, on_call):
        click.echo(line)
