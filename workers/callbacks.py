"""Start returning a call: ring the chosen counselor, who must be on the roster."""

from __future__ import annotations

import logging

from requests import RequestException
from twilio.base.exceptions import TwilioRestException

from ivr.callbacks import Callbacks
from ivr.roster.store import RosterStore
from ivr.twilio_transport import transport_error, twilio_client
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
    # One return call at a time: a repeated command or job does not ring twice.
    if not line.redis.set(f"callback:{reference}:calling", counselor_id, nx=True, ex=300):
        return "already being returned"
    try:
        twilio_client(line.settings).calls.create(
            to=counselor.phone,
            from_=line.settings.line_number,
            timeout=line.settings.ring_seconds,
            url=line.settings.public(f"/voice/callback-whisper/{reference}"),
        )
    except (TwilioRestException, RequestException) as error:
        line.redis.delete(f"callback:{reference}:calling")
        # Only the code: Twilio's message can quote the number it refused.
        raise transport_error(error) from None
    return "ringing the counselor"
