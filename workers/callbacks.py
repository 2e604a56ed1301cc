"""Start returning a call: ring the chosen counselor, who must be on the roster."""

from __future__ import annotations

import logging

from ivr.callbacks import Callbacks
from ivr.roster.store import RosterStore
from ivr.twilio_transport import twilio_client
from workers.context import job_context

log = logging.getLogger("helpline.jobs.callbacks")


def connect(reference: str, counselor_id: str) -> str:
    line = job_context()
    callbacks = Callbacks(
        line.redis, line.settings.secret_key, line.settings.retention_days * 86400
    )
    record = callbacks.get(reference)
    if not record or record.get("status") == "done":
        return "nothing to return"
    roster = RosterStore(line.redis).load()
    counselor = roster.by_id.get(counselor_id) if roster is not None else None
    if counselor is None or not counselor.active:
        log.warning(
            "callback %s: %s is not an active counselor on the roster", reference, counselor_id
        )
        return "not a rostered counselor"
    twilio_client(line.settings).calls.create(
        to=counselor.phone,
        from_=line.settings.line_number,
        timeout=line.settings.ring_seconds,
        url=line.settings.public(f"/voice/callback-whisper/{reference}"),
    )
    return "ringing the counselor"
