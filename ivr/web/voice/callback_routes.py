"""Returning a call: the line rings a counselor on the roster, who presses 1,
and only then dials the person's own number from their callback request — the
one time the line dials a caller, and never a number taken from a request."""

from __future__ import annotations

import logging
import time

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.callbacks.requests import BACKUP_LINE, Callbacks
from ivr.callbacks.returning import ReturnCalls
from ivr.callbacks.urgent import UrgentItems
from ivr.line import Line
from ivr.menu.state import CALL_SID
from ivr.platform.config import is_e164
from ivr.routing.dispatches import Dispatches
from ivr.web.current import helpline
from ivr.web.voice.common import absolute, field, say, twiml, voice

log = logging.getLogger("helpline.callbacks")


def _callbacks(line: Line) -> Callbacks:
    return Callbacks(line.redis, line.settings.secret_key, line.settings.retention_seconds)


def _url(route: str, reference: str) -> str:
    return absolute(f"voice.{route}", reference=reference)


def _one_key(
    response: VoiceResponse, line: Line, record: dict[str, str], prompt: str, then: str, ref: str
) -> Response:
    """The counselor hears PROMPT and presses one key, answered at THEN; no key
    is answered there too (as "no")."""
    gather = Gather(num_digits=1, timeout=8, action=_url(then, ref))
    say(gather, line, record.get("language", ""), prompt, ref=ref)
    response.append(gather)
    response.redirect(_url(then, ref))
    return twiml(response)


@voice.post("/callback-whisper/<reference>")
def callback_whisper(reference: str) -> Response:
    line = helpline()
    record = _callbacks(line).get(reference)
    response = VoiceResponse()
    if not record or record.get("status") == "done":
        response.hangup()
        return twiml(response)
    return _one_key(response, line, record, "callback_whisper", "callback_answer", reference)


@voice.post("/callback-answer/<reference>")
def callback_answer(reference: str) -> Response:
    line = helpline()
    record = _callbacks(line).get(reference)
    response = VoiceResponse()
    number = record.get("number", "") if record else ""
    if field("Digits")[:1] != "1" or not is_e164(number) or record.get("status") == "done":
        response.hangup()
        return twiml(response)
    returns = ReturnCalls(line.redis)
    if not returns.start_dialing(reference, field("CallSid") or "-"):
        response.hangup()  # already dialing the person from another press of 1
        return twiml(response)
    # The counselor is on a helpline call now: not to be rung for a waiting caller.
    who = returns.calling(reference)
    if who and who != BACKUP_LINE:
        Dispatches(line.redis, line.settings.retention_seconds).mark_busy(who)
    # Pressing 1 takes urgent work: its escalation ladder stops here.
    UrgentItems(line.redis, line.settings.retention_seconds).claim(
        reference, "backup line" if who == BACKUP_LINE else who or "counselor call"
    )
    say(response, line, record.get("language", ""), "callback_connecting")
    dial = response.dial(
        action=_url("callback_done", reference), caller_id=line.settings.line_number, timeout=30
    )
    dial.number(number)
    return twiml(response)


@voice.post("/callback-done/<reference>")
def callback_done(reference: str) -> Response:
    """The call to the person ended. Not answered: the request stays open, to be
    tried again. Answered: the counselor says whether they reached the person
    (a voicemail box answers too) before the request is closed."""
    line = helpline()
    _free_counselor(line, reference)
    response = VoiceResponse()
    if field("DialCallStatus") != "completed":
        _callbacks(line).mark(
            reference, "open", by="counselor call", attempt=_first_report(line, reference)
        )
        ReturnCalls(line.redis).over(reference)
        log.info("callback %s: not reached; still open", reference)
        response.hangup()
        return twiml(response)
    record = _callbacks(line).get(reference)
    return _one_key(response, line, record, "callback_outcome", "callback_outcome", reference)


@voice.post("/callback-outcome/<reference>")
def callback_outcome(reference: str) -> Response:
    """1: the person was reached, the request is done. Anything else: still open."""
    line = helpline()
    reached = field("Digits")[:1] == "1"
    _record_contact(line, reference, reached)
    _callbacks(line).mark(
        reference,
        "done" if reached else "open",
        by="counselor call",
        attempt=_first_report(line, reference),
    )
    ReturnCalls(line.redis).over(reference)
    log.info("callback %s: %s", reference, "done" if reached else "not reached; still open")
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


def _record_contact(line: Line, reference: str, reached: bool) -> None:
    """A returned call is a contact: the counselor who made it wraps it up
    (the backup line's staff are not ours to ask)."""
    record = _callbacks(line).get(reference)
    if not record:
        return
    who = ReturnCalls(line.redis).calling(reference)
    contacts = line.contacts
    source = f"callback:{reference}"
    _, new = contacts.record(
        source,
        channel="callback",
        language=record.get("language", ""),
        started=float(record.get("created") or time.time()),
        answered=time.time() if reached else None,
        ended=time.time(),
        outcome="answered" if reached else "unanswered",
        counselor=who if who and who != BACKUP_LINE else "",
    )
    if not new and reached:  # reached on a later try, perhaps by another counselor
        who_now = who if who and who != BACKUP_LINE else ""
        contacts.settle(source, "answered", counselor=who_now, answered=time.time())


def _first_report(line: Line, reference: str) -> bool:
    """True the first time a counselor leg says how its return call went."""
    leg = field("CallSid")
    return not CALL_SID.fullmatch(leg) or ReturnCalls(line.redis).first_report(reference, leg)


def _free_counselor(line: Line, reference: str) -> None:
    counselor = ReturnCalls(line.redis).calling(reference)
    if counselor:
        Dispatches(line.redis, line.settings.retention_seconds).mark_free(counselor)
