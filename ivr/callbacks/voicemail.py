"""Voicemail records: where the recording is, who left it (the number is kept
only here, for the callback), and when it expires."""

from __future__ import annotations

import time

import redis

INDEX = "voicemails"


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
            "created": int(now),
            "status": "new",
        },
    )
    pipe.expire(key, retention_seconds)
    pipe.zadd(INDEX, {recording_sid: now})
    pipe.zremrangebyscore(INDEX, 0, now - retention_seconds)
    pipe.execute()
    return True
