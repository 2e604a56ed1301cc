"""The contact log (issue 20): every contact in a date range, filtered by
channel, language, outcome, counselor and disposition; each opens its story
(waited, rung whom, answered or not, wrap-up); and the same filter as CSV.
Numbers never appear (contacts hold none); a note only for an admin, each
reading audited."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.export import csv_lines
from ivr.contacts.log import (
    FIELDS,
    Asked,
    Place,
    count_if_cheap,
    log_page,
    oldest_first,
    primed,
    read_filter,
)
from ivr.contacts.records import CHANNELS, OUTCOMES, Contacts
from ivr.contacts.report import WEEKDAYS, Report, build, hours_seen, local_range, on_call_by_hour
from ivr.crisis.decisions import Decisions
from ivr.roster.schedule import schedule_of
from ivr.routing.dispatches import Dispatches
from ivr.sms.keyword_counts import KeywordCounts
from ivr.web.admin.guard import admin, desk, operator, who
from ivr.web.admin.report_charts import report_charts
from ivr.web.current import helpline

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _contacts() -> Contacts:
    line = helpline()
    return Contacts(line.redis, line.settings.retention_seconds)


def _day(name: str, fallback: date) -> tuple[date, str]:
    """A YYYY-MM-DD field (UTC days), or FALLBACK with a message for the field."""
    raw = request.args.get(name, "")
    if not raw:
        return fallback, ""
    if _DAY.fullmatch(raw):
        try:
            return date.fromisoformat(raw), ""
        except ValueError:
            pass
    return fallback, f"{name}: write a date as YYYY-MM-DD"


def _wanted() -> Asked:
    """The filter asked for: days in the line's own zone (the last week by
    default), a message per bad field."""
    zone = helpline().settings.timezone
    raw = {name: request.args.get(name, "") for name in ("from", "to", *FIELDS)}
    return read_filter(raw, zone, datetime.now(ZoneInfo(zone)).date())


@admin.get("/contacts")
def contacts() -> ResponseReturnValue:
    """The newest contacts the filter matches, a page (log.PAGE) at a time:
    "Older" goes on from the last one shown (`before`), the filter carried.
    How many match is said only when Redis counts it without reading them
    all (no field filter), or when they all fit on this first page."""
    line = helpline()
    zone = line.settings.timezone
    asked = _wanted()
    errors = dict(asked.errors)
    before: Place | None = None
    if raw := request.args.get("before", ""):
        try:
            before = Place.parse(raw)
        except ValueError:
            errors["before"] = "before: not a place in this log; start again from the newest"
    found = log_page(line.redis, _contacts(), asked.wanted, before)
    total = count_if_cheap(line.redis, asked.wanted)
    if total is None and before is None and found.older is None:
        total = len(found.contacts)  # every match is on this page
    link: dict[str, Any] = {name: value for name, value in asked.fields.items() if value}
    older = found.older
    wrapup = line.content.wrapup
    page = render_template(
        "contacts.html",
        page="contacts",
        contacts=found.contacts,  # newest first
        total=total,
        before=before,
        older=url_for("admin.contacts", **link, before=older.text()) if older else "",
        newest=url_for("admin.contacts", **link),
        csv=url_for("admin.contacts_csv", **link),
        csv_notes=url_for("admin.contacts_csv", **link, notes="1"),
        zone=zone,
        shown=asked.fields,
        errors=errors,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        dispositions=list(wrapup.dispositions),
        when=partial(_when, zone=ZoneInfo(zone)),
    )
    return Response(page, status=422 if errors else 200)


def _when(moment: float | None, zone: ZoneInfo) -> str:
    """A moment as the log shows it: in the line's own zone (named once on
    the page), to the minute."""
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, zone).strftime("%Y-%m-%d %H:%M")


@admin.get("/contacts.csv")
def contacts_csv() -> ResponseReturnValue:
    """Every contact the filter matches (the whole range, not a page), oldest
    first, streamed as it is read; times in the line's zone. Notes for an
    admin who asks (notes=1), the export audited with its filter (how many
    is known only once it has been sent)."""
    asked = _wanted()
    if asked.errors:
        return Response("\n".join(asked.errors.values()) + "\n", status=422, mimetype="text/plain")
    line = helpline()
    notes = request.args.get("notes") == "1" and operator().can_change
    if notes:
        desk().audit.record(who(), "contacts.export_notes", asked.description())
    found = primed(oldest_first(line.redis, _contacts(), asked.wanted))
    rows = csv_lines(found, zone=line.settings.timezone, with_notes=notes)
    response = Response(rows, mimetype="text/csv")
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    response.headers["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


@admin.get("/contacts/<contact_id>")
def contact(contact_id: str) -> ResponseReturnValue:
    found = _contacts().get(contact_id)
    if found is None:
        reason = "No such contact: it may have been kept its full time and deleted."
        return Response(render_template("refused.html", reason=reason), status=404)
    line = helpline()
    legs = (
        Dispatches(line.redis, line.settings.retention_seconds).legs(found.detail)
        if (found.detail)
        else []
    )
    show_note = operator().can_change and bool(found.note)
    if show_note:
        desk().audit.record(who(), "contact.view", contact_id)
    wrapup = line.content.wrapup
    labels = {
        **{code: p.text("en") for code, p in wrapup.dispositions.items()},
        **{code: p.text("en") for code, p in wrapup.risks},
        **{code: p.text("en") for code, p in wrapup.referrals.items()},
    }
    shown = {
        "dispositions": [labels.get(code, code) for code in found.dispositions],
        "risk": labels.get(found.risk, found.risk),
        "referrals": [labels.get(code, code) for code in found.referrals],
    }
    zone = line.settings.timezone
    return render_template(
        "contact.html", page="contacts", contact=found, legs=legs, shown=shown,
        show_note=show_note, zone=zone, when=partial(_when, zone=ZoneInfo(zone)),
    )  # fmt: skip


REPORT_DAYS = 30


@admin.get("/reports")
def reports() -> ResponseReturnValue:
    """Figures from the contacts, in the line's own zone: by day, hour of day
    and day of week; the service level; dispositions and referrals."""
    line = helpline()
    zone = line.settings.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    first, first_error = _day("from", today - timedelta(days=REPORT_DAYS - 1))
    last, last_error = _day("to", today)
    errors = {k: v for k, v in (("from", first_error), ("to", last_error)) if v}
    if last < first or (last - first).days > 400:
        errors["to"] = "to: on or after from, and at most 400 days later"
        first, last = today - timedelta(days=REPORT_DAYS - 1), today
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


_MONTH = re.compile(r"(\d{4})-(\d{2})")


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
    asked = _MONTH.fullmatch(request.args.get("month", ""))
    year, month = (int(asked[1]), int(asked[2])) if asked else (today.year, today.month)
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        reason = "month: write it as YYYY-MM, e.g. 2026-11"
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
