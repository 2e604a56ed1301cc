"""Hearing a message by phone: the line calls a counselor about a message left
by someone who cannot be called back (workers/messages.py); pressing 1 plays
it, and hearing it takes the work (its ladder stops). Counselors need no
admin login for this: the message reaches whoever is on call, by phone."""

from __future__ import annotations

import logging
import re

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.callbacks.urgent import UrgentItem, UrgentItems
from ivr.line import Line
from ivr.operators.audit import AuditLog
from ivr.web.current import helpline
from ivr.web.message_audio import audio_token
from ivr.web.voice.common import absolute, field, say, twiml, voice

log = logging.getLogger("helpline.messages")
_COUNSELOR_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _url(route: str, reference: str, counselor_id: str) -> str:
    return absolute(f"voice.{route}", reference=reference, counselor_id=counselor_id)


def _message(line: Line, reference: str, counselor_id: str) -> UrgentItem | None:
    """The message's urgent work, while it is this counselor's to hear:
    unclaimed, or claimed by them, and its recording still kept."""
    if not _COUNSELOR_ID.fullmatch(counselor_id):
        return None
    item = UrgentItems(line.redis, line.settings.retention_seconds).get(reference)
    if item is None or item.kind != "message" or item.claimed_by not in ("", counselor_id):
        return None
    return item if line.redis.exists(f"voicemail:{item.subject}") else None


def _gone(line: Line, language: str) -> Response:
    response = VoiceResponse()
    say(response, line, language, "message_gone")
    response.hangup()
    return twiml(response)


@voice.post("/message-offer/<reference>/<counselor_id>")
def message_offer(reference: str, counselor_id: str) -> Response:
    line = helpline()
    found = _message(line, reference, counselor_id)
    if found is None:
        return _gone(line, "")
    item = found
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=8, action=_url("message_play", reference, counselor_id))
    for _ in range(2):
        say(gather, line, item.language, "message_offer", ref=reference)
    response.append(gather)
    response.hangup()
    return twiml(response)


@voice.post("/message-play/<reference>/<counselor_id>")
def message_play(reference: str, counselor_id: str) -> Response:
    """1: the message, and the work is theirs; again as often as they press 1."""
    line = helpline()
    response = VoiceResponse()
    if field("Digits")[:1] != "1":
        response.hangup()
        return twiml(response)
    found = _message(line, reference, counselor_id)
    if found is None:
        return _gone(line, "")
    item = found
    items = UrgentItems(line.redis, line.settings.retention_seconds)
    if not item.claimed_by and items.claim(reference, counselor_id):
        log.info("message %s: heard by %s", reference, counselor_id)
    # Hearing a caller's message is audited, as an admin's listen is.
    AuditLog(line.redis).record(f"phone:{counselor_id}", "voicemail.reveal", item.subject)
    # Through the line, not Twilio's own media URL (ivr/web/message_audio.py).
    token = audio_token(line.settings.secret_key, reference, counselor_id)
    response.play(absolute("message_audio.play", token=token))
    gather = Gather(num_digits=1, timeout=8, action=_url("message_play", reference, counselor_id))
    say(gather, line, item.language, "message_again")
    response.append(gather)
    response.hangup()
    return twiml(response)
