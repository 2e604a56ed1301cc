"""Contacts as CSV (issue 20, the contact log's export): one row per contact,
the same columns for the CLI, the API and the pages, read back by Python's
`csv` with the same counts. No phone number is ever in it (contacts hold
none), and the counselor's note only when an admin asks for it (the caller
audits that).

Times are ISO 8601 in the line's own zone with their offset
("2026-07-12T23:30:00-04:00"): a spreadsheet shows the line's clock, and a
program reads the exact instant whatever its own zone."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.contacts.records import Contact

COLUMNS = (
    "id",
    "channel",
    "language",
    "started",
    "answered",
    "ended",
    "waited_seconds",
    "talked_seconds",
    "counselor",
    "outcome",
    "wrapup_due",
    "dispositions",
    "risk",
    "referrals",
)
NOTE_COLUMN = "note"


def _when(moment: float | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, zone).isoformat(timespec="seconds")


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def row(contact: Contact, *, zone: str, with_note: bool = False) -> dict[str, str]:
    """CONTACT's cells, its times in ZONE (the line's)."""
    tz = ZoneInfo(zone)
    shown = {
        "id": contact.id,
        "channel": contact.channel,
        "language": contact.language,
        "started": _when(contact.started, tz),
        "answered": _when(contact.answered, tz),
        "ended": _when(contact.ended, tz),
        "waited_seconds": _seconds(contact.waited_seconds),
        "talked_seconds": _seconds(contact.talked_seconds),
        "counselor": contact.counselor,
        "outcome": contact.outcome,
        "wrapup_due": "yes" if contact.wrapup_due else "no",
        "dispositions": " ".join(contact.dispositions),
        "risk": contact.risk,
        "referrals": " ".join(contact.referrals),
    }
    if with_note:
        shown[NOTE_COLUMN] = contact.note
    return shown


def csv_lines(contacts: Iterable[Contact], *, zone: str, with_notes: bool = False) -> Iterator[str]:
    """The CSV a line at a time, the header first, as CONTACTS come (an
    answer streamed, never a year's log in one string); times in ZONE. A cell
    a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with '
    (notes are free text)."""
    out = io.StringIO()
    columns = (*COLUMNS, NOTE_COLUMN) if with_notes else COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    yield _taken(out)
    for contact in contacts:
        cells = row(contact, zone=zone, with_note=with_notes)
        writer.writerow({k: _inert(v) for k, v in cells.items()})
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    written = out.getvalue()
    out.seek(0)
    out.truncate()
    return written


def _inert(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
