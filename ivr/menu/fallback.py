"""The response of last resort. Whatever failed — Redis, a bug, bad input — the
caller hears the crisis numbers and is put through to the always-staffed backup
line. Nothing here touches Redis, and the text comes from content loaded at
start-up, so this cannot fail for the reasons the normal path did."""

from __future__ import annotations

from collections.abc import Callable

from twilio.twiml.voice_response import VoiceResponse

from ivr.content.model import Content
from ivr.content.render import fill


def _say_in(response: VoiceResponse, content: Content, name: str, languages: list[str]) -> None:
    for language in languages:
        locale = content.locales[language]
        response.say(
            fill(content, content.prompts[name].text(language), language, "voice"),
            voice=locale.say_voice,
            language=locale.say_language,
        )


def _languages(content: Content, language: str | None) -> list[str]:
    # Without the caller's language, say it in every language, the default first.
    return [language] if language in content.languages else list(content.languages)


def fallback_response(
    content: Content,
    backup_number: str,
    url_for: Callable[[str], str],
    language: str | None,
    *,
    method: str = "POST",
) -> VoiceResponse:
    """`method`: how Twilio asks for the next step (GET for the static copy that
    `helpline fallback export` writes: static hosts often refuse POST)."""
    response = VoiceResponse()
    _say_in(response, content, "fallback", _languages(content, language))
    dial = response.dial(action=url_for("fallback_done"), method=method, timeout=30)
    dial.number(backup_number)
    return response


def fallback_done_response(
    content: Content,
    dial_status: str,
    url_for: Callable[[str], str],
    language: str | None,
    *,
    method: str = "POST",
) -> VoiceResponse:
    """The backup line did not answer either: take a message, so the caller is
    never left with nothing."""
    response = VoiceResponse()
    if dial_status == "completed":
        response.hangup()
        return response
    _say_in(response, content, "backup_unreachable", _languages(content, language))
    # No consent step here (it needs Redis): the line never calls back the
    # number a fallback message came from; the caller says where, if anywhere.
    _say_in(response, content, "fallback_message", _languages(content, language))
    response.record(
        action=url_for("fallback_recorded"),
        method=method,
        max_length=180,
        finish_on_key="#",
        play_beep=True,
        timeout=10,
    )
    _say_in(response, content, "goodbye", _languages(content, language))
    response.hangup()
    return response


def goodbye_response(content: Content, language: str | None) -> VoiceResponse:
    response = VoiceResponse()
    _say_in(response, content, "goodbye", _languages(content, language))
    response.hangup()
    return response
