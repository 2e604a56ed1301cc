"""The reports (issue 20): figures from the contacts in the line's own zone
over a range of days (`reports`), and one printable page per month for a
board (`monthly`). Their days are read as the contact log reads its own
(`ivr.contacts.log.read_day`: YYYY-MM-DD, 2000 to 2100), each page keeping
its own range: at most 400 days; a month from 2000-01 to 2100-12."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.log import EARLIEST, LATEST, read_day
from ivr.contacts.records import Contacts
from ivr.contacts.report import WEEKDAYS, Report, build, hours_seen, local_range, on_call_by_hour
from ivr.crisis.decisions import Decisions
from ivr.roster.schedule import schedule_of
from ivr.sms.keyword_counts import KeywordCounts
from ivr.web.admin.guard import admin
from ivr.web.admin.report_charts import report_charts
from ivr.web.current import helpline

REPORT_DAYS = 30
RANGE_DAYS = 400  # the longest range a report takes: a year and a bit


def _contacts() -> Contacts:
    line = helpline()
    return Contacts(line.redis, line.settings.retention_seconds)


def _range(today: date) -> tuple[date, date, dict[str, str]]:
    """The days asked for (`from`, `to`, read as the log reads them), at most
    RANGE_DAYS apart; the last REPORT_DAYS up to TODAY by default, and
    instead of a range with a bad field (a message per field)."""
    errors: dict[str, str] = {}
    default = today - timedelta(days=REPORT_DAYS - 1)
    first = read_day(request.args, "from", errors) or default
    last = read_day(request.args, "to", errors) or today
    if not errors and (last < first or (last - first).days > RANGE_DAYS):
        errors["to"] = f"to: on or after from, and at most {RANGE_DAYS} days later"
    if errors:
        first, last = default, today
    return first, last, errors


@admin.get("/reports")
def reports() -> ResponseReturnValue:
    """Figures from the contacts, in the line's own zone: by day, hour of day
    and day of week; the service level; dispositions and referrals."""
    line = helpline()
    zone = line.settings.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    first, last, errors = _range(today)
    start, end = local_range(zone, first, last)
    store = _contacts()
    store.tallied()
    report = _report(store, zone, first, last)
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
    on_call = _on_call_by_hour(zone, first, last)
    page = render_template(
        "reports.html", page="reports", report=report, errors=errors, labels=labels,
        weekdays=WEEKDAYS, percent=_percent, seconds=_seconds, on_call=on_call,
        charts=report_charts(report, on_call, hours_seen(zone, first, last)),
        keywords=KeywordCounts(line.redis, retention).between(start, end),
        crisis=crisis, claims=claims, median=_median,
    )  # fmt: skip
    return Response(page, status=422 if errors else 200)


def _report(store: Contacts, zone: str, first: date, last: date) -> Report:
    start, end = local_range(zone, first, last)
    core, detail = store.tallies.core_between(start, end), store.tallies.detail_between(start, end)
    return build(core, detail, zone, first, last)


def _on_call_by_hour(zone: str, first: date, last: date) -> list[float | None]:
    """Counselors on call in each local hour of day, on average over the
    range, by the roster as it stands now (a roster keeps no history)."""
    roster = helpline().roster.load()
    if roster is None:
        return [None] * 24
    schedule = schedule_of(roster)
    return on_call_by_hour(schedule.on_call_ids, schedule.boundaries, zone, first, last)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def _median(values: list[float]) -> str:
    return "—" if not values else f"{values[len(values) // 2] / 60:.1f} min"


def _percent(value: float | None) -> str:
    """A share as a percentage; an empty period is shown as empty, not 0 %."""
    return "—" if value is None else f"{value * 100:.0f} %"


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def _month_days(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@admin.get("/reports/monthly")
def monthly() -> ResponseReturnValue:
    """One printable page per month, for a board: the headline figures and
    their change from the month before, in the line's zone."""
    line = helpline()
    zone = line.settings.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    raw = request.args.get("month", "")
    asked = _MONTH.fullmatch(raw)
    year, month = (int(asked[1]), int(asked[2])) if asked else (today.year, today.month)
    if (raw and not asked) or not 1 <= month <= 12 or not EARLIEST.year <= year <= LATEST.year:
        reason = "month: write it as YYYY-MM, e.g. 2026-11 (2000-01 to 2100-12)"
        return Response(render_template("refused.html", reason=reason), status=422)
    first, last = _month_days(year, month)
    before_first, before_last = _month_days(year - (month == 1), (month - 2) % 12 + 1)
    store = _contacts()
    store.tallied()
    this = _report(store, zone, first, last)
    previous = _report(store, zone, before_first, before_last)
    wrapup = line.content.wrapup
    labels = {code: p.text("en") for code, p in wrapup.dispositions.items()}
    on_call = _on_call_by_hour(zone, first, last)
    return render_template(
        "monthly.html", page="reports", report=this, previous=previous, labels=labels,
        percent=_percent, change=_change, seconds=_seconds,
        charts=report_charts(this, on_call, hours_seen(zone, first, last)),
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
