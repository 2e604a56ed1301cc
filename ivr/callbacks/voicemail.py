"""Voicemail records: where the recording is, who left it (the number is kept
only here, for the callback), and when it expires."""

from __future__ import annotations

import time

import redis

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems, deadline_after
from ivr.callers.caller_id import may_call_back
from ivr.jobs import Jobs
from ivr.platform.config import Settings

INDEX = "voicemails"
# A message left on the fallback path (Redis failing): no consent step could
# run, so the line does not call back; the message asks for the number.
NOT_ASKED = "not asked"


def store_voicemail(
    client: redis.Redis,
    *,
    recording_sid: str,
    recording_url: str,
    duration_seconds: int,
    call_sid: str,
    caller: str,
    language: str,
    retention_seconds: int,
    consent: str = NOT_ASKED,
) -> bool:
    """Record once per RecordingSid; a repeated webhook changes nothing."""
    key = f"voicemail:{recording_sid}"
    now = time.time()
    if not client.hsetnx(key, "recording_sid", recording_sid):
        return False
    pipe = client.pipeline(transaction=True)
    pipe.hset(
        key,
        mapping={
            "recording_url": recording_url,
            "duration": duration_seconds,
            "call_sid": call_sid,
            "caller": caller,
            "language": language,
            "consent": consent,
            "created": int(now),
            "status": "new",
        },
    )
    pipe.expire(key, retention_seconds)
    pipe.zadd(INDEX, {recording_sid: now})
    pipe.zremrangebyscore(INDEX, 0, now - retention_seconds)
    pipe.execute()
    return True


def call_back_for_message(
    client: redis.Redis,
    settings: Settings,
    jobs: Jobs,
    *,
    recording_sid: str,
    number: str,
    consent: str,
    language: str,
) -> str | None:
    """A message whose caller asked to be called back at NUMBER (CONSENT says
    how they gave it: the number they called from, or one they keyed or said)
    is a request to be called back: the request, urgent work that must be
    taken before its deadline, and an alert to the counselors on call. Its
    reference; None when they asked not to be (or could not say where), or
    for a placeholder of a withheld caller ID, which can be someone else's
    number."""
    if not may_call_back(number):
        return None
    retention = settings.retention_seconds
    reference = Callbacks(client, settings.secret_key, retention).create(
        number, language, "voicemail", note=recording_sid, consent=consent
    )
    client.hset(f"voicemail:{recording_sid}", "callback", reference)
    UrgentItems(client, retention).open(
        reference, "voicemail", language, time.time() + deadline_after("voicemail", settings)
    )
    jobs.alert("callback_alert", reference, reference)
    return reference
