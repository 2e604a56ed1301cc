"""Call a counselor so they can hear a message nobody may call back
(ivr/callbacks/voicemail.py): they replied to its alert with its reference,
or its ladder reached the supervisors. The call says what it is; pressing 1
plays the message and takes the work (ivr/web/voice/message_routes.py).

A counselor is called at most once per five minutes for one message: a job
run twice, or a second reply, does not ring them twice."""

from __future__ import annotations

import logging

from requests import RequestException
from twilio.base.exceptions import TwilioRestException

from ivr.callbacks.urgent import UrgentItems
from ivr.jobs import message_hear_path
from ivr.platform.twilio_transport import transport_error, twilio_client
from workers.context import job_line

log = logging.getLogger("helpline.jobs.messages")
CALL_AGAIN_AFTER_SECONDS = 300


def call_to_hear(reference: str, counselor_id: str) -> str:
    line = job_line()
    item = UrgentItems(line.redis, line.settings.retention_seconds).get(reference)
    if item is None or item.kind != "message" or item.claimed_by:
        return "heard already"
    counselor = line.roster.load()
    person = counselor.by_id.get(counselor_id) if counselor is not None else None
    if person is None or not person.active:
        return "not a rostered counselor"
    once = f"urgent:{reference}:hear-call:{counselor_id}"
    if not line.redis.set(once, 1, nx=True, ex=CALL_AGAIN_AFTER_SECONDS):
        return "already calling them"
    try:
        twilio_client(line.settings).calls.create(
            to=person.phone,
            from_=line.settings.line_number,
            timeout=line.settings.ring_seconds,
            url=line.settings.public(message_hear_path(reference, counselor_id)),
        )
    except (TwilioRestException, RequestException) as error:
        failure = transport_error(error)
        if not failure.ambiguous:
            line.redis.delete(once)  # nothing is ringing: a retry may ring
        raise failure from None
    log.info("message %s: calling %s to hear it", reference, counselor_id)
    return "calling"
