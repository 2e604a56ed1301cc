"""A text conversation, once closed, is a contact (ivr/contacts/records.py):
whoever closed it (its counselor, the texter's STOP, the line after a
silence), the counselor who held it has its wrap-up due."""

from __future__ import annotations

import time

from ivr.contacts.records import Contacts
from ivr.threads.store import Thread


def record_conversation(contacts: Contacts, thread: Thread, outcome: str = "") -> str:
    """The contact of THREAD (as it was before closing), once; its id.
    OUTCOME: how it ended, when not simply held (conversation) or never taken
    (unanswered) — the texter's STOP is opted_out."""
    held = bool(thread.holder) and thread.taken_at is not None
    contact_id, _ = contacts.record(
        f"thread:{thread.id}",
        channel="text",
        language=thread.language,
        started=thread.opened,
        answered=thread.taken_at if held else None,
        ended=time.time(),
        outcome=outcome or ("conversation" if held else "unanswered"),
        counselor=thread.holder if held else "",
    )
    return contact_id
