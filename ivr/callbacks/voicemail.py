"""Voicemail records: where the recording is, who left it (the number is kept
only here, for the callback), and when it expires."""

from __future__ import annotations

import time

import redis

from ivr.callbacks.requests import Callbacks, new_reference
from ivr.callbacks.urgent import UrgentItems, deadline_after
from ivr.callers.caller_id import may_call_back
from ivr.jobs import Jobs
from ivr.platform.config import Settings
from ivr.platform.redis_store import text

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


def follow_up_message(
    client: redis.Redis,
    settings: Settings,
    jobs: Jobs,
    *,
    recording_sid: str,
    number: str,
    consent: str,
    language: str,
) -> str:
    """Every message is someone's work before its deadline; its reference.

    A caller who asked to be called back at NUMBER (CONSENT says how they gave
    it: the number they called from, or one they keyed or said) made a request
    to be called back (`CB-…`): the request, urgent work and an alert to the
    counselors on call. A message nobody may call back (they asked not to be,
    could not say where, left it on the fallback path, or the number is a
    withheld caller ID's placeholder, which can be someone else's) must still
    be heard: it may say "I took all my pills". It is urgent work of its own
    (`VM-…`), taken by listening to it, on the same ladder of alerts."""
    retention = settings.retention_seconds
    urgent = UrgentItems(client, retention)
    deadline = time.time() + deadline_after("voicemail", settings)
    if may_call_back(number):
        reference = Callbacks(client, settings.secret_key, retention).create(
            number, language, "voicemail", note=recording_sid, consent=consent
        )
        client.hset(f"voicemail:{recording_sid}", "callback", reference)
        urgent.open(reference, "voicemail", language, deadline)
        jobs.alert("callback_alert", reference, reference)
        return reference
    reference = new_reference("VM")
    client.hset(f"voicemail:{recording_sid}", "urgent", reference)
    urgent.open(reference, "message", language, deadline, subject=recording_sid)
    jobs.alert("message_alert", reference, reference)
    return reference


def message_heard(client: redis.Redis, retention_seconds: int, recording_sid: str, by: str) -> bool:
    """Someone listened to the message (or marked it done): its urgent work,
    if it had any of its own, is theirs and its ladder stops. True when this
    took it."""
    reference = client.hget(f"voicemail:{recording_sid}", "urgent")
    if not reference:
        return False
    return UrgentItems(client, retention_seconds).claim(text(reference), by)
