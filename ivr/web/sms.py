"""SMS webhooks: read the text, act, answer. A crisis reply is inline TwiML;
everything else is queued through the outbox, so the response is quick."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from ivr.content.render import fill
from ivr.sms.handler import InboundText, SmsHandler
from ivr.sms.reading import Intent, read_text
from ivr.sms.status import StatusUpdates
from ivr.sms.twilio_layer import OptOutSetting
from ivr.web.current import helpline
from ivr.web.signature import guard

log = logging.getLogger("helpline.sms")
sms = guard(Blueprint("sms", __name__, url_prefix="/sms"))
MAX_BODY = 1600  # Twilio's own limit for one message


def _field(name: str, limit: int = 64) -> str:
    value = request.form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _messages(bodies: list[str]) -> Response:
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return Response(str(response), mimetype="text/xml")


@sms.post("/incoming")
def incoming() -> Response:
    line = helpline()
    text = InboundText(
        message_sid=_field("MessageSid"),
        sender=_field("From").strip(),
        body=_field("Body", MAX_BODY),
        opt_out_type=_field("OptOutType", 16),
    )
    if not text.message_sid:
        return _messages([])
    # Does HELPLINE_ADVANCED_OPT_OUT match the number? Only texts like this tell.
    OptOutSetting(line.redis, line.settings.advanced_opt_out).observe(text.body, text.opt_out_type)
    outcome = SmsHandler(line.content, line.settings, line.redis, line.queue, line.roster).handle(
        text
    )
    return _messages(outcome.inline)


@sms.post("/status")
def status() -> Response:
    sid = _field("MessageSid")
    if sid:
        part = request.args.get("part", "")[:32]  # our own, in the URL Twilio signed
        StatusUpdates(helpline().redis).record(
            sid, _field("MessageStatus"), _field("ErrorCode"), part
        )
    return Response(status=204)


@sms.errorhandler(Exception)
def still_answer(error: Exception) -> Response | HTTPException:
    """Redis down or a bug: still answer, from content in memory alone — the
    crisis reply to a text that reads as a crisis, else where to turn now.
    (Opt-outs cannot be read without Redis; Twilio's own opt-out list still
    stops replies to numbers that sent it STOP.)"""
    if isinstance(error, HTTPException):
        return error
    if isinstance(error, redis.RedisError | TimeoutError):
        log.error("SMS webhook without Redis: answering from content alone")
    else:
        log.exception("SMS webhook failed")
    content = helpline().content
    reading = read_text(_field("Body", MAX_BODY), content)
    language = reading.language or content.default_language
    if reading.intent in (Intent.OPT_OUT, Intent.OPT_IN):
        return _messages([])  # never answer STOP with anything but the compliance path
    # Nothing could be recorded, so nobody will call back: the crisis reply that
    # promises no contact (911/988 only), as for a blocked number.
    role = "blocked_crisis" if reading.intent is Intent.CRISIS else "unavailable"
    text_id = content.sms.replies[role]
    return _messages(
        [fill(content, part.text(language), language, "sms") for part in content.texts[text_id]]
    )
