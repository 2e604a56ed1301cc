"""Contacts as CSV (issue 20, the contact log's export): one row per contact,
the same columns for the CLI and the pages, read back by Python's `csv` with
the same counts. No phone number is ever in it (contacts hold none), and the
counselor's note only when an admin asks for it (the caller audits that)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from ivr.contacts.records import Contact

COLUMNS = (
    "id",
    "channel",
    "language",
    "started_utc",
    "answered_utc",
    "ended_utc",
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


def _when(moment: float | None) -> str:
    return "" if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def row(contact: Contact, *, with_note: bool = False) -> dict[str, str]:
    shown = {
        "id": contact.id,
        "channel": contact.channel,
        "language": contact.language,
        "started_utc": _when(contact.started),
        "answered_utc": _when(contact.answered),
        "ended_utc": _when(contact.ended),
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


def to_csv(contacts: Iterable[Contact], *, with_notes: bool = False) -> str:
    """CSV text, a header then one row per contact. A cell a spreadsheet would
    run as a formula (=, +, -, @ first) is prefixed with ' (notes are free text)."""
    out = io.StringIO()
    columns = (*COLUMNS, NOTE_COLUMN) if with_notes else COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for contact in contacts:
        writer.writerow({k: _inert(v) for k, v in row(contact, with_note=with_notes).items()})
    return out.getvalue()


def _inert(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
