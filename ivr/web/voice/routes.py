"""Voice webhooks. Each view reads Twilio's fields, asks the engine for TwiML,
and returns it; any failure inside becomes the safe fallback, never a 500."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.callbacks.caller_id import may_call_back
from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems, deadline_after
from ivr.callbacks.voicemail import store_voicemail
from ivr.crisis.decisions import Decisions
from ivr.crisis.reader import CrisisReading
from ivr.menu.engine import Call, VoiceEngine
from ivr.menu.fallback import fallback_done_response, fallback_response, goodbye_response
from ivr.menu.state import CALL_SID, CallStates
from ivr.operators.blocklist import Blocklist
from ivr.platform.privacy import number_ref, sid_ref
from ivr.routing.holding import Holding
from ivr.sms.handler import ALERT_JOB
from ivr.sms.optout import OptOuts
from ivr.sms.text_requests import TextRequests
from ivr.web.current import helpline
from ivr.web.signature import guard

log = logging.getLogger("helpline.voice")
voice = guard(Blueprint("voice", __name__, url_prefix="/voice"))

MAX_FIELD = 512  # Twilio's own values are short; anything longer is not Twilio's


class BadRequestFields(Exception):
    """A signed request whose fields are not what Twilio sends."""


def _twiml(response: VoiceResponse | str) -> Response:
    """A TwiML response: a document built here, or one the engine rendered."""
    return Response(str(response), mimetype="text/xml")


def _field(name: str) -> str:
    value = request.form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _call() -> Call:
    sid = _field("CallSid")
    if not CALL_SID.fullmatch(sid):
        raise BadRequestFields("CallSid")
    return Call(sid=sid, caller=_field("From").strip())


def _absolute(endpoint: str, **values: Any) -> str:
    return helpline().settings.public(url_for(endpoint, **values))


ENGINE = "helpline.voice_engine"


def _engine() -> VoiceEngine:
    """The line's voice engine, built at its first call and kept: it holds only
    the line's content, clients and settings (nothing of one request), and
    building it registers the dispatch Lua scripts (a SHA-1 each), which the
    profile showed was a tenth of a menu step (docs/benchmarks.md)."""
    extensions = current_app.extensions
    engine: VoiceEngine | None = extensions.get(ENGINE)
    if engine is None:
        # Two first requests at once may both build one: harmless, one is kept.
        engine = extensions[ENGINE] = _build_engine()
    return engine


def _build_engine() -> VoiceEngine:
    line = helpline()
    settings = line.settings
    texts = TextRequests(
        line.content,
        line.outbox,
        OptOuts(line.redis, settings.secret_key),
        per_hour=settings.sms_per_recipient_per_hour,
    )
    return VoiceEngine(
        content=line.content,
        states=CallStates(line.redis, settings.call_state_ttl_seconds),
        texts=texts,
        url_for=_step_url,
        backup_number=settings.backup_number,
        holds=Holding(line.redis, line.queue, settings, line.roster),
        crisis_heard=_crisis_heard,
    )


def _crisis_heard(speech: str, language: str, *, learned: bool = True) -> CrisisReading:
    """The crisis reader on a caller's words; the decision recorded (no words)."""
    line = helpline()
    decisions = Decisions(line.redis, line.settings.retention_days * 86400)
    return decisions.read(line.content.crisis, speech, language, "voice", learned=learned)


def _step_url(route: str, ident: str) -> str:
    """URLs of the engine's steps: most name a node, the hold ones a dispatch."""
    if route in ("hold", "queue_done"):
        return _absolute(f"voice.{route}", dispatch_id=ident)
    return _absolute(f"voice.{route}", node_id=ident)


@voice.post("/incoming")
def incoming() -> Response:
    call = _call()
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
        return _twiml(response)
    log.info("call %s arrived", sid_ref(call.sid))
    return _twiml(_engine().incoming(call))


@voice.post("/node/<node_id>")
def node(node_id: str) -> Response:
    return _twiml(_engine().node(_call(), node_id))


@voice.post("/menu/<node_id>")
def answer(node_id: str) -> Response:
    return _twiml(
        _engine().answer(_call(), node_id, _field("Digits").strip(), _field("SpeechResult"))
    )


@voice.post("/dial-done/<node_id>")
def dial_done(node_id: str) -> Response:
    return _twiml(_engine().dial_done(_call(), node_id, _field("DialCallStatus")))


def _save_recording(call: Call, language: str) -> None:
    line = helpline()
    duration = _field("RecordingDuration")
    sid, url = _field("RecordingSid"), _field("RecordingUrl")
    if not (sid and url):
        return
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
        retention_seconds=line.settings.retention_days * 86400,
    )
    if not stored:
        return  # a repeated webhook: the callback was already asked for
    log.info("voicemail %s saved for call %s", sid, sid_ref(call.sid))
    if may_call_back(call.caller):
        # A message is a request to be called back: queue it and tell who is on call.
        # Never for a withheld caller ID: its placeholder can be someone's number.
        reference = Callbacks(
            line.redis, line.settings.secret_key, line.settings.retention_days * 86400
        ).create(call.caller, language or line.content.default_language, "voicemail", note=sid)
        line.redis.hset(f"voicemail:{sid}", "callback", reference)
        # A message left is urgent work: someone must take it before its deadline.
        UrgentItems(line.redis, line.settings.retention_days * 86400).open(
            reference,
            "voicemail",
            language or line.content.default_language,
            time.time() + deadline_after("voicemail", line.settings),
        )
        line.queue.enqueue(ALERT_JOB, "callback_alert", reference, reference, result_ttl=600)


@voice.post("/recorded/<node_id>")
def recorded(node_id: str) -> Response:
    call = _call()
    engine = _engine()
    _save_recording(call, engine.language_of(call.sid))
    return _twiml(engine.after_recording(call, node_id))


@voice.post("/status")
def status() -> Response:
    """Call status callback: a finished call's menu state is no longer needed."""
    sid = _field("CallSid")
    if CALL_SID.fullmatch(sid) and _field("CallStatus") in (
        "completed",
        "busy",
        "failed",
        "no-answer",
        "canceled",
    ):
        line = helpline()
        CallStates(line.redis, line.settings.call_state_ttl_seconds).forget(sid)
        # Imported here: the counselor routes add themselves to this blueprint.
        from ivr.web.voice.counselor_routes import caller_hung_up

        caller_hung_up(line, sid)
    return Response(status=204)


# -- the fallback path: must work with Redis down -------------------------


def _fallback_url(route: str) -> str:
    return _absolute(f"voice.{route}")


def _known_language() -> str | None:
    """The caller's language if Redis can still tell us, quickly; else None."""
    sid = _field("CallSid")
    if not CALL_SID.fullmatch(sid):
        return None
    try:
        return _engine().language_of(sid)
    except Exception:
        return None


@voice.post("/fallback-done")
def fallback_done() -> Response:
    line = helpline()
    return _twiml(
        fallback_done_response(
            line.content, _field("DialCallStatus"), _fallback_url, _known_language()
        )
    )


@voice.post("/fallback-recorded")
def fallback_recorded() -> Response:
    language = None
    sid = _field("CallSid")
    try:
        if CALL_SID.fullmatch(sid):
            # Not _known_language(): with Redis hanging, its timeout and then the
            # save's would cost the caller two timeouts (1 s) before the goodbye.
            language = _engine().language_of(sid)
            _save_recording(Call(sid=sid, caller=_field("From").strip()), language)
    except redis.RedisError:
        # The recording itself is safe at Twilio; its sid lets an operator find it.
        log.error("voicemail %s could not be saved: Redis unavailable", _field("RecordingSid"))
    return _twiml(goodbye_response(helpline().content, language))


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
        return _twiml(response)
    line = helpline()
    # Redis just failed us: don't spend another timeout asking it the language.
    language = None if isinstance(error, redis.RedisError) else _known_language()
    return _twiml(
        fallback_response(line.content, line.settings.backup_number, _fallback_url, language)
    )
