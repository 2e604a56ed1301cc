"""The reports (issue 20): figures from the contacts in the line's own zone
over a range of days (`reports`), and one printable page per month for a
board (`monthly`). Their days are read as the contact log reads its own
(`ivr.contacts.log.read_day`: YYYY-MM-DD, 2000 to 2100), each page keeping
its own range: at most 400 days; a month from 2000-01 to 2100-12."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.days import local_range, read_month, read_report_days
from ivr.contacts.report import (
    WEEKDAYS,
    hours_seen,
    read_report,
    roster_on_call_by_hour,
)
from ivr.crisis.decisions import Decisions
from ivr.sms.keyword_counts import KeywordCounts
from ivr.web.admin.guard import admin
from ivr.web.admin.report_charts import report_charts
from ivr.web.current import helpline


@admin.get("/reports")
def reports() -> ResponseReturnValue:
    """Figures from the contacts, in the line's own zone: by day, hour of day
    and day of week; the service level; dispositions and referrals."""
    line = helpline()
    zone = line.settings.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    first, last, errors = read_report_days(request.args, today)
    start, end = local_range(zone, first, last)
    report = read_report(helpline().contacts, zone, first, last)
    wrapup = line.content.wrapup
    labels = {
        **{code: p.text("en") for code, p in wrapup.dispositions.items()},
        **{code: p.text("en") for code, p in wrapup.referrals.items()},
    }
    retention = line.settings.retention_seconds
    crisis = Counter(
        {
            (d.category or "unknown"): n
            for d, n in Decisions(line.redis, retention).between(start, end).items()
            if d.outcome == "crisis" and d.channel == "sms"
        }
    )
    claims = sorted(UrgentItems(line.redis, retention).times_to_claim_between(start, end))
    on_call, seen = _coverage(zone, first, last, today)
    page = render_template(
        "reports.html", page="reports", report=report, errors=errors, labels=labels,
        weekdays=WEEKDAYS, percent=_percent, seconds=_seconds, on_call=on_call,
        charts=report_charts(report, on_call, seen),
        keywords=KeywordCounts(line.redis, retention).between(start, end),
        crisis=crisis, claims=claims, median=_median,
    )  # fmt: skip
    return Response(page, status=422 if errors else 200)


def _coverage(
    zone: str, first: date, last: date, today: date
) -> tuple[list[float | None], list[int]]:
    """Counselors on call by hour of day, and how often each hour occurs, over
    the range's days that have come (this month's later days are not yet a
    day's demand, nor its coverage)."""
    until = max(first, min(last, today))
    roster = helpline().roster.load()
    return roster_on_call_by_hour(roster, zone, first, until), hours_seen(zone, first, until)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def _median(values: list[float]) -> str:
    return "—" if not values else f"{values[len(values) // 2] / 60:.1f} min"


def _percent(value: float | None) -> str:
    """A share as a percentage; an empty period is shown as empty, not 0 %."""
    return "—" if value is None else f"{value * 100:.0f} %"


@admin.get("/reports/monthly")
def monthly() -> ResponseReturnValue:
    """One printable page per month, for a board: the headline figures and
    their change from the month before, in the line's zone."""
    line = helpline()
    zone = line.settings.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    asked = read_month(request.args.get("month", "") or f"{today:%Y-%m}")
    if asked is None:
        reason = "month: write it as YYYY-MM, e.g. 2026-11 (2000-01 to 2100-12)"
        return Response(render_template("refused.html", reason=reason), status=422)
    first, last = asked
    before_last = first - timedelta(days=1)
    before_first = before_last.replace(day=1)
    store = helpline().contacts
    this = read_report(store, zone, first, last)
    previous = read_report(store, zone, before_first, before_last)
    wrapup = line.content.wrapup
    labels = {code: p.text("en") for code, p in wrapup.dispositions.items()}
    on_call, seen = _coverage(zone, first, last, today)
    return render_template(
        "monthly.html", page="reports", report=this, previous=previous, labels=labels,
        percent=_percent, change=_change, seconds=_seconds,
        charts=report_charts(this, on_call, seen),
        month=first.strftime("%B %Y"),
        previous_month=before_first.strftime("%B %Y"),
        line_name=line.content.line_name[line.content.default_language],
    )  # fmt: skip


def _change(now: float | None, before: float | None, *, share: bool = False) -> str:
    """The change from last month: points for a share, a count's difference."""
    if now is None or before is None:
        return "—"
    delta = (now - before) * (100 if share else 1)
    unit = " pts" if share else ""
    return f"{delta:+.0f}{unit}"
