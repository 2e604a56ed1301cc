"""The contact log (issue 20): every contact in a date range, filtered by
channel, language, outcome, counselor and disposition; each opens its story
(waited, rung whom, answered or not, wrap-up); and the same filter as CSV.
Numbers never appear (contacts hold none); a note only for an admin, each
reading audited."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.export import to_csv
from ivr.contacts.log import ContactFilter, contact_log
from ivr.contacts.records import CHANNELS, OUTCOMES, Contacts
from ivr.contacts.report import WEEKDAYS, build, local_range
from ivr.crisis.decisions import Decisions
from ivr.routing.dispatches import Dispatches
from ivr.sms.keyword_counts import KeywordCounts
from ivr.web.admin.guard import admin, desk, operator, who
from ivr.web.current import helpline

DEFAULT_DAYS = 7
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE = re.compile(r"[a-z0-9_.@-]{0,64}")


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


def _wanted() -> tuple[ContactFilter, dict[str, str], dict[str, str]]:
    """The filter asked for, the fields as typed, and a message per bad field."""
    today = datetime.now(UTC).date()
    first, first_error = _day("from", today - timedelta(days=DEFAULT_DAYS - 1))
    last, last_error = _day("to", today)
    errors = {k: v for k, v in (("from", first_error), ("to", last_error)) if v}
    fields = {
        name: request.args.get(name, "")
        for name in ("channel", "language", "outcome", "counselor", "disposition")
    }
    allowed = {"channel": ("", *CHANNELS), "outcome": ("", *OUTCOMES)}
    for name, value in fields.items():
        if name in allowed and value not in allowed[name]:
            errors[name] = f"{name}: not one of {', '.join(allowed[name][1:])}"
            fields[name] = ""
        elif not _CODE.fullmatch(value):
            errors[name] = f"{name}: letters, digits and _ . @ - only"
            fields[name] = ""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
    end = datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp() + 86400
    shown = {"from": first.isoformat(), "to": last.isoformat(), **fields}
    return ContactFilter(start, end, **fields), shown, errors


@admin.get("/contacts")
def contacts() -> ResponseReturnValue:
    wanted, shown, errors = _wanted()
    found = contact_log(_contacts(), wanted)
    wrapup = helpline().content.wrapup
    page = render_template(
        "contacts.html",
        page="contacts",
        contacts=list(reversed(found)),  # newest first
        shown=shown,
        errors=errors,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        dispositions=list(wrapup.dispositions),
        query=request.query_string.decode(),
        when=_when,
    )
    return Response(page, status=422 if errors else 200)


def _when(moment: float | None) -> str:
    """A moment as the log shows it: UTC, to the minute (the line's own zone
    comes with issue 20's figures)."""
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")


@admin.get("/contacts.csv")
def contacts_csv() -> ResponseReturnValue:
    wanted, _, errors = _wanted()
    if errors:
        return Response("\n".join(errors.values()) + "\n", status=422, mimetype="text/plain")
    found = contact_log(_contacts(), wanted)
    notes = request.args.get("notes") == "1" and operator().can_change
    if notes:
        desk().audit.record(who(), "contacts.export_notes", f"{len(found)} contacts")
    response = Response(to_csv(found, with_notes=notes), mimetype="text/csv")
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
    return render_template(
        "contact.html", page="contacts", contact=found, legs=legs, shown=shown,
        show_note=show_note, when=_when,
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
    report = build(_contacts().between(start, end), zone, first, last)
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
    page = render_template(
        "reports.html", page="reports", report=report, errors=errors, labels=labels,
        weekdays=WEEKDAYS, percent=_percent,
        keywords=KeywordCounts(line.redis, retention).between(start, end),
        crisis=crisis, claims=claims, median=_median,
    )  # fmt: skip
    return Response(page, status=422 if errors else 200)


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
    this = build(store.between(*local_range(zone, first, last)), zone, first, last)
    previous = build(
        store.between(*local_range(zone, before_first, before_last)),
        zone,
        before_first,
        before_last,
    )
    wrapup = line.content.wrapup
    labels = {code: p.text("en") for code, p in wrapup.dispositions.items()}
    return render_template(
        "monthly.html", page="reports", report=this, previous=previous, labels=labels,
        percent=_percent, change=_change, month=first.strftime("%B %Y"),
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
