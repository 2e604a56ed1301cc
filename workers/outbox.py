"""Send one outbox batch: its texts, in order, each exactly once.

- Opt-out, the per-recipient cap and the sender's rate limit are checked here,
  the one place every text passes. A number over its cap is never just met
  with silence: the first reply over it each hour becomes a notice that replies
  are paused and how to reach a counselor (content role `rate_limited`).
- Before each send the part is marked "sending"; after, its MessageSid is
  kept. A run that finds a part still "sending" (its worker died, or the
  request timed out) first asks Twilio whether that text went out, and sends
  it only if it did not: no text lost, none twice.
- A run holds a lease on the batch, renewed as it goes; if its worker dies the
  lease runs out and the sweeper queues the batch again within seconds.
- Transient failures are raised for RQ to retry with backoff; permanent ones
  are recorded and never retried; 21610 also marks the number opted out.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

from redis.exceptions import LockError
from requests import RequestException
from twilio.base.exceptions import TwilioRestException

from ivr.content.render import fill
from ivr.content.segments import count_segments
from ivr.jobs import SMS_STATUS_PATH
from ivr.line import Line
from ivr.platform.redis_store import decoded
from ivr.platform.twilio_transport import UNSUBSCRIBED, transport_error, twilio_client
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import LEASES, batch_key, cap_key, cap_notice_key, sid_key
from ivr.sms.pacing import RateLimitTimeout, SendPacer
from ivr.sms.status import StatusUpdates
from workers.context import job_line

log = logging.getLogger("helpline.jobs.outbox")
DONE = ("sent", "failed", "blocked", "capped")
# Never held back by the per-recipient hourly cap: alerts to staff (a busy
# night sends one counselor more than the cap), and a conversation with a
# counselor, which is not the line's automatic replies the cap is for.
UNCAPPED_KINDS = (
    "crisis_alert",
    "callback_alert",
    "message_alert",
    "message_urgent",
    "message_taken",
    "urgent_alert",
    "urgent_taken",
    "urgent_not_taken",
    "talk_alert",
    "talk_urgent",
    "talk_handed",
    "thread",
)


def _record_end(line: Line, key: str, status: str, detail: str = "") -> str:
    line.redis.hset(key, mapping={"status": status, "detail": detail, "finished": int(time.time())})
    return status


def _over_cap(line: Line, to_ref: str) -> bool:
    """Abuse and SMS-pumping guard: a bounded number of replies per number per hour."""
    key = cap_key(to_ref)
    # One round trip for both (a pipeline, not a transaction: the same order as two calls).
    counting = line.redis.pipeline(transaction=False)
    counting.incr(key)
    counting.expire(key, 3600)
    count, _ = counting.execute()
    return int(count) > line.settings.sms_per_recipient_per_hour


# KEYS: the number's notice flag for this hour, the batch. ARGV: the flag's ttl,
# the batch id, how many parts the batch had, the fields it gets (JSON). The
# flag and the new bodies in one step: a run that dies between the two would
# otherwise leave the flag set and the notice never sent.
_BECOME_NOTICE = """
local notice_flag, batch = KEYS[1], KEYS[2]
local flag_ttl, batch_id, old_parts, fields_json = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if not redis.call('SET', notice_flag, batch_id, 'NX', 'EX', flag_ttl) then return 0 end
for i = 0, old_parts - 1 do redis.call('HDEL', batch, 'body' .. i) end
for name, value in pairs(cjson.decode(fields_json)) do
  redis.call('HSET', batch, name, tostring(value))
end
return 1
"""


def _becomes_notice(line: Line, batch_id: str, key: str, record: dict[str, str]) -> bool:
    """Over the cap: the first batch of the hour is sent as the `rate_limited`
    notice instead (replies are paused; reply CALL for a counselor; 988), so
    the person is never met with silence, and the rest of the hour's are
    capped. True when this batch became the notice.

    Not a STOP's confirmation: "reply CALL" is no answer to STOP (and Twilio
    confirms a STOP itself)."""
    if record.get("kind") == "opted-out":
        return False
    content = line.content
    language = record.get("language", "")
    language = language if language in content.languages else content.default_language
    parts = content.texts[content.sms.replies["rate_limited"]]
    bodies = [fill(content, part.text(language), language, "sms") for part in parts]
    fields: dict[str, str | int] = {
        "parts": len(bodies),
        "status": "sending",
        "replaced": "rate_limited",
        **{f"body{i}": body for i, body in enumerate(bodies)},
    }
    became = line.redis.register_script(_BECOME_NOTICE)(
        keys=[cap_notice_key(record.get("to_ref", "")), key],
        args=[3600, batch_id, int(record.get("parts", "0")), json.dumps(fields)],
    )
    if not became:
        return False
    for name in [k for k in record if k.startswith("body")]:
        del record[name]
    record.update({name: str(value) for name, value in fields.items()})
    return True


def _already_sent(line: Line, batch_id: str, to: str, body: str, since: float) -> str | None:
    """Did Twilio take this text in an earlier run? Its sid, if so.

    Twilio has no idempotency key for messages, so ask it: the newest messages
    to this number, created since the earlier attempt began, with this body,
    and not already claimed by another batch. (Filtering on DateSent would miss
    a text Twilio accepted but has not sent yet.)"""
    client = twilio_client(line.settings)
    after = datetime.fromtimestamp(since, UTC) - timedelta(minutes=1)
    for message in client.messages.list(to=to, from_=line.settings.line_number, limit=50):
        created = message.date_created
        if created is not None and created < after:
            break  # newest first: nothing older can be ours
        owner = line.redis.get(sid_key(str(message.sid)))
        claimed_elsewhere = owner is not None and not _text(owner).startswith(f"{batch_id}:")
        if message.body == body and not claimed_elsewhere:
            return str(message.sid)
    return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _send_part(line: Line, key: str, record: dict[str, str], index: int) -> str:
    """Send one part (or find it already sent); its MessageSid."""
    to, body = record["to"], record[f"body{index}"]
    started = record.get(f"sending{index}")
    if started:
        found = _already_sent(line, record["batch_id"], to, body, float(started))
        if found:
            return found
    pacer = SendPacer(
        line.redis, f"sms:{line.settings.line_number}", line.settings.sms_segments_per_second
    )
    with pacer.sending(count_segments(body).segments):
        line.redis.hset(key, f"sending{index}", time.time())
        client = twilio_client(line.settings)
        message = client.messages.create(
            to=to,
            from_=line.settings.line_number,
            body=body,
            # Its part named in the URL: its callbacks may come before its sid is kept.
            status_callback=line.settings.public(
                f"{SMS_STATUS_PATH}?part={record['batch_id']}:{index}"
            ),
        )
    return str(message.sid)


def send_batch(batch_id: str) -> str:
    line = job_line()
    key = batch_key(batch_id)
    # The lease outlasts one send (the client's timeout is 5 s) and is renewed per part.
    lease = line.redis.lock(f"{key}:lease", timeout=line.settings.job_lease_seconds, blocking=False)
    if not lease.acquire():
        return "running elsewhere"  # another run holds the lease and is alive
    outcome = "failed"
    try:
        outcome = _send_batch(line, batch_id, key, lease)
        return outcome
    finally:
        if outcome == "lease lost":
            line.redis.zadd(LEASES, {batch_id: time.time()})  # the sweeper takes it up now
        else:
            line.redis.zrem(LEASES, batch_id)
        try:
            lease.release()
        except LockError:
            log.warning("outbox %s: lease had already run out", batch_id)


def _send_batch(line: Line, batch_id: str, key: str, lease: object) -> str:
    record = decoded(line.redis.hgetall(key))
    if not record or record.get("status") in DONE:
        return "nothing to do"
    record["batch_id"] = batch_id
    to = record["to"]
    opted_out = OptOuts(line.redis, line.settings.secret_key).is_opted_out(to)
    if record.get("despite_opt_out") != "1" and opted_out:
        return _record_end(line, key, "blocked", "opted out")
    if record.get("kind") == "opted-out" and not opted_out:
        # A STOP's confirmation that waited behind other work until the person
        # texted START again would tell them "no more messages" after "messages
        # are back on" (found by the load test): it is stale, never sent.
        return _record_end(line, key, "blocked", "opted back in before it went")
    if record.get("status") == "queued":
        # Alerts go to rostered counselors and must never be silenced by the cap.
        capped_kind = record.get("kind") not in UNCAPPED_KINDS
        if capped_kind and _over_cap(line, record.get("to_ref", "")):
            if not _becomes_notice(line, batch_id, key, record):
                log.warning("outbox %s: over the per-recipient cap", batch_id)
                return _record_end(line, key, "capped", "per-recipient cap")
            log.warning("outbox %s: over the per-recipient cap; the notice goes instead", batch_id)
        else:
            line.redis.hset(key, "status", "sending")
    for index in range(int(record.get("parts", "0"))):
        if record.get(f"sid{index}"):
            continue
        seconds = line.settings.job_lease_seconds
        line.redis.zadd(LEASES, {batch_id: time.time() + seconds})
        try:
            lease.extend(seconds, replace_ttl=True)  # type: ignore[attr-defined]
        except LockError:
            # Lost (this run was too slow): another run may be in charge; never both.
            log.warning("outbox %s: lease lost mid-batch; leaving it to the next run", batch_id)
            return "lease lost"
        try:
            sid = _send_part(line, key, record, index)
        except (TwilioRestException, RequestException, RateLimitTimeout) as error:
            failure = transport_error(error)
            if not failure.ambiguous:
                line.redis.hdel(key, f"sending{index}")
            if not failure.permanent:
                # `from None`: the transport's own message may carry numbers (query strings).
                raise failure from None
            if failure.code == UNSUBSCRIBED:
                OptOuts(line.redis, line.settings.secret_key).opt_out(to, "twilio 21610")
                if record.get("kind") == "opted-out":
                    # Twilio keeps its own opt-out list and confirms a STOP itself.
                    return _record_end(line, key, "blocked", "21610: Twilio confirms STOP itself")
            log.warning("outbox %s part %d failed for good: %s", batch_id, index, failure)
            return _record_end(line, key, "failed", f"{failure.code or ''} {failure}".strip())
        # The sid, then its way back to this part, in one step (ivr/sms/status.py).
        StatusUpdates(line.redis).keep_sid(batch_id, index, sid, line.settings.retention_seconds)
        record[f"sid{index}"] = sid
    log.info("outbox %s sent (%s parts) to %s", batch_id, record.get("parts"), record.get("to_ref"))
    return _record_end(line, key, "sent")
