"""'Text me this' from the phone menu: a request recorded in Redis and a job
that sends it. The job payload is only the request id; the caller's number
stays in the record, which expires."""

from __future__ import annotations

import hashlib
import logging
import time

import redis
from rq import Queue

from ivr.config import is_e164
from ivr.privacy import number_ref

log = logging.getLogger("helpline.texts")
SEND_JOB = "workers.texts.send_text_request"


def request_key(request_id: str) -> str:
    return f"textreq:{request_id}"


class TextRequests:
    def __init__(
        self, client: redis.Redis, queue: Queue, secret_key: str, retention_seconds: int
    ) -> None:
        self._redis = client
        self._queue = queue
        self._secret = secret_key
        self._ttl = retention_seconds

    def request(self, call_sid: str, caller: str, text_id: str, language: str) -> bool:
        """Queue the text; False when the caller's number cannot receive it.
        One request per call and text: a repeated webhook sends nothing twice."""
        if not is_e164(caller):
            return False
        request_id = hashlib.sha256(f"{call_sid}:{text_id}".encode()).hexdigest()[:24]
        key = request_key(request_id)
        created = self._redis.hsetnx(key, "to", caller)
        if not created:
            return True
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "text_id": text_id,
                "language": language,
                "to_ref": number_ref(self._secret, caller),
                "created": int(time.time()),
                "status": "queued",
            },
        )
        pipe.expire(key, self._ttl)
        pipe.execute()
        self._queue.enqueue(
            SEND_JOB,
            request_id,
            job_id=f"text-{request_id}",
            result_ttl=3600,
            failure_ttl=self._ttl,
        )
        log.info("text %s queued for %s", text_id, number_ref(self._secret, caller))
        return True
