"""The contact log (issue 20): every contact in a date range, filtered by
channel, language, outcome, counselor and disposition; each opens its story
(waited, rung whom, answered or not, wrap-up); and the same filter as CSV.
Numbers never appear (contacts hold none); a note only for an admin, each
reading audited. The reports drawn from the same contacts are in
report_pages."""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

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
from ivr.contacts.records import CHANNELS, OUTCOMES
from ivr.routing.dispatches import Dispatches
from ivr.web.admin.guard import admin, desk, operator, who
from ivr.web.current import helpline


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
    found = log_page(line.redis, helpline().contacts, asked.wanted, before)
    before = found.before  # the place it went on from, if it did (not one past the range)
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
    found = primed(oldest_first(line.redis, helpline().contacts, asked.wanted))
    rows = csv_lines(found, zone=line.settings.timezone, with_notes=notes)
    response = Response(rows, mimetype="text/csv")
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    response.headers["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


@admin.get("/contacts/<contact_id>")
def contact(contact_id: str) -> ResponseReturnValue:
    found = helpline().contacts.get(contact_id)
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
