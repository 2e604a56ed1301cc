"""Send a 'text me this' request: each part once, in order."""

from __future__ import annotations

import logging

from ivr.content.render import fill
from ivr.redis_store import decoded
from ivr.text_requests import request_key
from ivr.twilio_transport import twilio_client
from workers.context import job_context

log = logging.getLogger("helpline.jobs.texts")


def send_text_request(request_id: str) -> str:
    line = job_context()
    key = request_key(request_id)
    record = decoded(line.redis.hgetall(key))
    if not record or record.get("status") == "sent":
        return "nothing to do"
    parts = line.content.texts.get(record["text_id"], ())
    language = record["language"]
    client = twilio_client(line.settings)
    for index, part in enumerate(parts):
        done_field = f"part{index}"
        if record.get(done_field):
            continue  # sent by an earlier run of this job
        body = fill(line.content, part.text(language), language, "sms")
        message = client.messages.create(
            to=record["to"], from_=line.settings.line_number, body=body
        )
        line.redis.hset(key, done_field, message.sid)
    line.redis.hset(key, "status", "sent")
    log.info(
        "text %s sent to %s in %d part(s)", record["text_id"], record.get("to_ref"), len(parts)
    )
    return "sent"
