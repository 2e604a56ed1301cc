"""Returning a call: the line rings a counselor on the roster, who presses 1,
and only then dials the person's own number from their callback request — the
one time the line dials a caller, and never a number taken from a request."""

from __future__ import annotations

import logging
import time

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.callbacks.requests import BACKUP_LINE, Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.menu.state import CALL_SID
from ivr.platform.config import is_e164
from ivr.routing.dispatches import BUSY
from ivr.web.current import Helpline, helpline
from ivr.web.voice.counselor_routes import _say
from ivr.web.voice.routes import _absolute, _field, _twiml, voice

log = logging.getLogger("helpline.callbacks")


def _callbacks(line: Helpline) -> Callbacks:
    return Callbacks(line.redis, line.settings.secret_key, line.settings.retention_days * 86400)


def _url(route: str, reference: str) -> str:
    return _absolute(f"voice.{route}", reference=reference)


@voice.post("/callback-whisper/<reference>")
def callback_whisper(reference: str) -> Response:
    line = helpline()
    record = _callbacks(line).get(reference)
    response = VoiceResponse()
    if not record or record.get("status") == "done":
        response.hangup()
        return _twiml(response)
    gather = Gather(num_digits=1, timeout=8, action=_url("callback_answer", reference))
    _say(gather, line, record.get("language", ""), "callback_whisper", ref=reference)
    response.append(gather)
    response.redirect(_url("callback_answer", reference))
    return _twiml(response)


@voice.post("/callback-answer/<reference>")
def callback_answer(reference: str) -> Response:
    line = helpline()
    record = _callbacks(line).get(reference)
    response = VoiceResponse()
    number = record.get("number", "") if record else ""
    if _field("Digits")[:1] != "1" or not is_e164(number) or record.get("status") == "done":
        response.hangup()
        return _twiml(response)
    # Which counselor leg dials: the same press delivered again (Twilio retries a
    # webhook whose answer it never got) gets the same answer, or the person
    # would never be called; a press on another leg is refused. Twilio acts on
    # one answer per press, so the person is dialed once either way.
    leg = _field("CallSid") or "-"
    dialing = f"callback:{reference}:dialing"
    if (
        not line.redis.set(dialing, leg, nx=True, ex=120)
        and _text(line.redis.get(dialing) or b"") != leg
    ):
        response.hangup()  # already dialing the person from another press of 1
        return _twiml(response)
    # The counselor is on a helpline call now: not to be rung for a waiting caller.
    counselor = line.redis.get(f"callback:{reference}:calling")
    who = _text(counselor) if counselor else ""
    if who and who != BACKUP_LINE:
        line.redis.zadd(BUSY, {who: time.time()})
    # Pressing 1 takes urgent work: its escalation ladder stops here.
    UrgentItems(line.redis, line.settings.retention_days * 86400).claim(
        reference, "backup line" if who == BACKUP_LINE else who or "counselor call"
    )
    _say(response, line, record.get("language", ""), "callback_connecting")
    dial = response.dial(
        action=_url("callback_done", reference), caller_id=line.settings.line_number, timeout=30
    )
    dial.number(number)
    return _twiml(response)


@voice.post("/callback-done/<reference>")
def callback_done(reference: str) -> Response:
    """The call to the person ended. Not answered: the request stays open, to be
    tried again. Answered: the counselor says whether they reached the person
    (a voicemail box answers too) before the request is closed."""
    line = helpline()
    _free_counselor(line, reference)
    response = VoiceResponse()
    if _field("DialCallStatus") != "completed":
        _callbacks(line).mark(
            reference, "open", by="counselor call", attempt=_first_report(line, reference)
        )
        line.redis.delete(f"callback:{reference}:dialing", f"callback:{reference}:calling")
        log.info("callback %s: not reached; still open", reference)
        response.hangup()
        return _twiml(response)
    record = _callbacks(line).get(reference)
    gather = Gather(num_digits=1, timeout=8, action=_url("callback_outcome", reference))
    _say(gather, line, record.get("language", ""), "callback_outcome")
    response.append(gather)
    response.redirect(_url("callback_outcome", reference))
    return _twiml(response)


@voice.post("/callback-outcome/<reference>")
def callback_outcome(reference: str) -> Response:
    """1: the person was reached, the request is done. Anything else: still open."""
    line = helpline()
    reached = _field("Digits")[:1] == "1"
    _callbacks(line).mark(
        reference,
        "done" if reached else "open",
        by="counselor call",
        attempt=_first_report(line, reference),
    )
    line.redis.delete(f"callback:{reference}:dialing", f"callback:{reference}:calling")
    log.info("callback %s: %s", reference, "done" if reached else "not reached; still open")
    response = VoiceResponse()
    response.hangup()
    return _twiml(response)


def _first_report(line: Helpline, reference: str) -> bool:
    """True the first time a counselor leg says how its return call went: the
    same webhook delivered twice counts one attempt, not two."""
    leg = _field("CallSid")
    if not CALL_SID.fullmatch(leg):
        return True
    return bool(line.redis.set(f"callback:{reference}:told:{leg}", 1, nx=True, ex=86400))


def _free_counselor(line: Helpline, reference: str) -> None:
    counselor = line.redis.get(f"callback:{reference}:calling")
    if counselor:
        line.redis.zrem(BUSY, _text(counselor))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
