"""Voice webhooks. Each view reads Twilio's fields, asks the engine for TwiML,
and returns it; any failure inside becomes the safe fallback, never a 500."""

from __future__ import annotations

import logging
import time

import redis
from flask import Response, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.callbacks.voicemail import NOT_ASKED, follow_up_message, store_voicemail
from ivr.callers.blocklist import Blocklist
from ivr.menu.engine import Call
from ivr.menu.fallback import fallback_done_response, fallback_response, goodbye_response
from ivr.menu.state import CALL_SID, CallStates
from ivr.platform.privacy import number_ref, sid_ref
from ivr.routing.ending import WaitEnding
from ivr.web.current import helpline
from ivr.web.voice.common import (
    BadRequestFields,
    absolute,
    field,
    this_call,
    twiml,
    voice,
    voice_engine,
)

log = logging.getLogger("helpline.voice")


@voice.post("/incoming")
def incoming() -> Response:
    call = this_call()
    line = helpline()
    if Blocklist(line.redis, line.settings.secret_key).is_blocked(call.caller):
        # An operator blocked this number for a while (docs/operators.md). Refused
        # without answering (Twilio never picks up): no menu, no counselor rung.
        # A text can be read before it is answered, so a blocked texter's crisis
        # words still get the 911/988 guidance (ivr.sms.handler); a call cannot be
        # screened without answering it. Refusing it tells no lie and hides no help:
        # 911 and 988 are public, and the block ends by itself. (With Redis down
        # this check fails, and the safe fallback answers as for anyone.)
        log.info(
            "call %s refused: %s is blocked",
            sid_ref(call.sid),
            number_ref(line.settings.secret_key, call.caller),
        )
        response = VoiceResponse()
        response.reject(reason="rejected")
        return twiml(response)
    log.info("call %s arrived", sid_ref(call.sid))
    return twiml(voice_engine().incoming(call))


@voice.post("/node/<node_id>")
def node(node_id: str) -> Response:
    return twiml(voice_engine().node(this_call(), node_id))


@voice.post("/menu/<node_id>")
def answer(node_id: str) -> Response:
    return twiml(
        voice_engine().answer(this_call(), node_id, field("Digits").strip(), field("SpeechResult"))
    )


@voice.post("/consent-number/<node_id>")
def consent_number(node_id: str) -> Response:
    """The number a caller keyed or said, to be called back at."""
    return twiml(
        voice_engine().consent_number(
            this_call(), node_id, field("Digits").strip(), field("SpeechResult")
        )
    )


@voice.post("/consent-confirm/<node_id>")
def consent_confirm(node_id: str) -> Response:
    """Yes to the number read back, or the number again."""
    return twiml(
        voice_engine().consent_confirm(
            this_call(), node_id, field("Digits").strip(), field("SpeechResult")
        )
    )


@voice.post("/dial-done/<node_id>")
def dial_done(node_id: str) -> Response:
    return twiml(voice_engine().dial_done(this_call(), node_id, field("DialCallStatus")))


def _save_recording(call: Call, language: str, *, asked: bool = True) -> None:
    """ASKED: the caller went through the consent step (not the fallback path,
    whose message asks for a number: an earlier consent in the call is not it)."""
    line = helpline()
    duration = field("RecordingDuration")
    sid, url = field("RecordingSid"), field("RecordingUrl")
    if not (sid and url):
        return
    states = CallStates(line.redis, line.settings.call_state_ttl_seconds)
    consent = states.consent_of(call.sid) if asked else None
    stored = store_voicemail(
        line.redis,
        recording_sid=sid,
        recording_url=url,
        # isdecimal, not isdigit: "²" is a digit that int() refuses, which lost
        # the message and gave the caller the error fallback.
        duration_seconds=int(duration) if duration.isdecimal() else 0,
        call_sid=call.sid,
        caller=call.caller,
        language=language,
        retention_seconds=line.settings.retention_seconds,
        consent=consent.how if consent is not None else NOT_ASKED,
    )
    if not stored:
        return  # a repeated webhook: its follow-up is already open
    log.info("voicemail %s saved for call %s", sid, sid_ref(call.sid))
    # The call's contact: a message, whether or not it waited for a counselor first.
    contacts = line.contacts
    now = time.time()
    _, new = contacts.record(
        f"call:{call.sid}", channel="call", language=language or line.content.default_language,
        started=now, ended=now, outcome="voicemail",
    )  # fmt: skip
    if not new:
        contacts.settle(f"call:{call.sid}", "voicemail", unless=("answered",))
    follow_up_message(
        line.redis,
        line.settings,
        line.jobs,
        recording_sid=sid,
        number=consent.number if consent is not None and consent.callable else "",
        consent=consent.how if consent is not None else NOT_ASKED,
        language=language or line.content.default_language,
    )


@voice.post("/recorded/<node_id>")
def recorded(node_id: str) -> Response:
    call = this_call()
    engine = voice_engine()
    _save_recording(call, engine.language_of(call.sid))
    if field("Digits") == "hangup":
        # The caller hung up mid-message: Twilio requests this action anyway and
        # ignores the answer. The message is kept above; entering the next node
        # for a caller who is gone could ring counselors or queue work for nobody.
        response = VoiceResponse()
        response.hangup()
        return twiml(response)
    return twiml(engine.after_recording(call, node_id))


@voice.post("/status")
def status() -> Response:
    """Call status callback: a finished call's menu state is no longer needed."""
    sid = field("CallSid")
    if CALL_SID.fullmatch(sid) and field("CallStatus") in (
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    ):
        line = helpline()
        CallStates(line.redis, line.settings.call_state_ttl_seconds).forget(sid)
        WaitEnding(
            line.redis, line.jobs, line.settings.retention_seconds, line.settings.timezone
        ).caller_hung_up(sid)
    return Response(status=204)


# -- the fallback path: must work with Redis down -------------------------


def _fallback_url(route: str) -> str:
    return absolute(f"voice.{route}")


def _known_language() -> str | None:
    """The caller's language if Redis can still tell us, quickly; else None."""
    sid = field("CallSid")
    if not CALL_SID.fullmatch(sid):
        return None
    try:
        return voice_engine().language_of(sid)
    except Exception:
        return None


@voice.post("/fallback-done")
def fallback_done() -> Response:
    line = helpline()
    return twiml(
        fallback_done_response(
            line.content, field("DialCallStatus"), _fallback_url, _known_language()
        )
    )


@voice.post("/fallback-recorded")
def fallback_recorded() -> Response:
    language = None
    sid = field("CallSid")
    try:
        if CALL_SID.fullmatch(sid):
            # Not _known_language(): with Redis hanging, its timeout and then the
            # save's would cost the caller two timeouts (1 s) before the goodbye.
            language = voice_engine().language_of(sid)
            _save_recording(Call(sid=sid, caller=field("From").strip()), language, asked=False)
    except redis.RedisError:
        # The recording itself is safe at Twilio; its sid lets an operator find it.
        log.error("voicemail %s could not be saved: Redis unavailable", field("RecordingSid"))
    return twiml(goodbye_response(helpline().content, language))


# The waitUrl of a caller on hold, and the action of a <Gather> inside it.
QUEUE_WAIT_ENDPOINTS = ("voice.hold", "voice.hold_choice")


@voice.errorhandler(Exception)
def safe_fallback(error: Exception) -> Response | HTTPException:
    """No silence: whatever went wrong, the caller hears the crisis numbers and
    is put through to the backup line."""
    if isinstance(error, HTTPException):
        return error
    if isinstance(error, BadRequestFields):
        log.warning("voice request with a malformed %s field", error)
    else:
        log.exception("voice request failed; playing the fallback")
    if request.endpoint in QUEUE_WAIT_ENDPOINTS:
        # A caller on hold: this answer is a waitUrl document, where <Dial> is not
        # allowed (Twilio plays only Play, Say, Pause, Gather, Redirect, Leave and
        # Hangup there), so the fallback below would be an error, not a backup
        # line. <Leave> sends the caller to the Enqueue action, which plays it.
        response = VoiceResponse()
        response.leave()
        return twiml(response)
    line = helpline()
    # Redis just failed us: don't spend another timeout asking it the language.
    language = None if isinstance(error, redis.RedisError) else _known_language()
    return twiml(
        fallback_response(line.content, line.settings.backup_number, _fallback_url, language)
    )
