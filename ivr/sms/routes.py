"""SMS webhooks. The keyword replies, compliance and crisis fast path come with
the messaging work; until then an inbound text is acknowledged without a reply
(Twilio's own opt-out handling still applies on the toll-free number)."""

from __future__ import annotations

from flask import Blueprint, Response
from twilio.twiml.messaging_response import MessagingResponse

from ivr.signature import guard

sms = guard(Blueprint("sms", __name__, url_prefix="/sms"))


@sms.post("/incoming")
def incoming() -> Response:
    return Response(str(MessagingResponse()), mimetype="text/xml")


@sms.post("/status")
def status() -> Response:
    return Response(status=204)
