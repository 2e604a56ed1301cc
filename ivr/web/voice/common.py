"""What every voice webhook shares: the blueprint (signed requests only),
Twilio's fields read safely, the TwiML answer, absolute URLs, the line's voice
engine, and prompts spoken in the caller's language. The routes live in
routes.py (the menu and the fallback), counselor_routes.py (holding and
ringing) and callback_routes.py (returning a call)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.render import fill
from ivr.crisis.decisions import Decisions
from ivr.crisis.reader import CrisisReading
from ivr.line import Line
from ivr.menu.engine import Call, VoiceEngine
from ivr.menu.state import CALL_SID, CallStates
from ivr.routing.holding import Holding
from ivr.sms.optout import OptOuts
from ivr.sms.text_requests import TextRequests
from ivr.web.current import helpline
from ivr.web.signature import guard

voice = guard(Blueprint("voice", __name__, url_prefix="/voice"))

MAX_FIELD = 512  # Twilio's own values are short; anything longer is not Twilio's


class BadRequestFields(Exception):
    """A signed request whose fields are not what Twilio sends."""


def twiml(response: VoiceResponse | str) -> Response:
    """A TwiML response: a document built here, or one the engine rendered."""
    return Response(str(response), mimetype="text/xml")


def field(name: str) -> str:
    value = request.form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def this_call() -> Call:
    sid = field("CallSid")
    if not CALL_SID.fullmatch(sid):
        raise BadRequestFields("CallSid")
    return Call(sid=sid, caller=field("From").strip())


def absolute(endpoint: str, **values: Any) -> str:
    return helpline().settings.public(url_for(endpoint, **values))


ENGINE = "helpline.voice_engine"


def voice_engine() -> VoiceEngine:
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
    decisions = Decisions(line.redis, line.settings.retention_seconds)
    return decisions.read(line.content.crisis, speech, language, "voice", learned=learned)


def _step_url(route: str, ident: str) -> str:
    """URLs of the engine's steps: most name a node, the hold ones a dispatch."""
    if route in ("hold", "queue_done"):
        return absolute(f"voice.{route}", dispatch_id=ident)
    return absolute(f"voice.{route}", node_id=ident)


def say(
    response: VoiceResponse | Gather, line: Line, speak_in: str, name: str, **values: str
) -> None:
    content = line.content
    language = speak_in if speak_in in content.languages else content.default_language
    locale = content.locales[language]
    text = fill(content, content.prompts[name].text(language), language, "voice", values)
    response.say(text, voice=locale.say_voice, language=locale.say_language)
