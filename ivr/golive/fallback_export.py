"""A fallback that does not depend on us: static TwiML files, written from the
content, for any static web host (object storage, a CDN, GitHub Pages).

Twilio requests the number's fallback URL when the Voice or SMS URL fails
(no connection, a timeout, an error status, a document that is not TwiML).
If the fallback lives on the same service, an outage takes both; these files
need nothing of ours to keep working.

A fallback URL gives one answer to every caller, whose language nobody
knows yet, so each document speaks (or texts) every language of the
content, the default first. The files, relative to each other:

    voice.xml          the crisis numbers (prompt `fallback`), then <Dial> the
                       backup number; after the dial → voice-after.xml
    voice-after.xml    the backup line did not answer (or the call with it
                       ended): prompt `backup_unreachable`, then <Record> a
                       message (kept by Twilio, under the account's
                       Recordings) → voice-goodbye.xml
    voice-goodbye.xml  prompt `goodbye`, hang up
    sms.xml            text `fallback` in every language, one message each
    sms-<lang>.xml     the same in one language

Every URL inside is relative and fetched with GET: static hosts commonly
refuse POST (405), and Twilio resolves a relative URL against the document
that holds it, so the files work wherever they are put together.
"""

from __future__ import annotations

from pathlib import Path

from twilio.twiml.messaging_response import MessagingResponse

from ivr.content.model import Content
from ivr.content.render import fill
from ivr.menu.fallback import fallback_done_response, fallback_response, goodbye_response

VOICE_FILE = "voice.xml"
VOICE_AFTER_FILE = "voice-after.xml"
VOICE_GOODBYE_FILE = "voice-goodbye.xml"
SMS_FILE = "sms.xml"
# The text the SMS fallback sends; `unavailable` (a reply of the running line)
# stands in for content that has no `fallback` text.
SMS_TEXT = "fallback"
SMS_TEXT_INSTEAD = "unavailable"


class ExportError(Exception):
    """The content cannot make the fallback files (a prompt is missing)."""


# The static files refer to each other by name, fetched with GET.
_STEP_FILES = {"fallback_done": VOICE_AFTER_FILE, "fallback_recorded": VOICE_GOODBYE_FILE}
_PROMPTS = ("fallback", "backup_unreachable", "goodbye")


def voice_documents(content: Content, backup_number: str) -> dict[str, str]:
    """The running line's own Redis-free fallback (ivr/menu/fallback.py), in
    every language (a static file cannot know the caller's), as files."""
    for prompt in _PROMPTS:
        if prompt not in content.prompts:
            raise ExportError(f"the content has no prompt '{prompt}'")
    step = _STEP_FILES.__getitem__
    first = fallback_response(content, backup_number, step, None, method="GET")
    # After any call with the backup line (a static file cannot tell whether it
    # answered): a message after the tone, then goodbye.
    after = fallback_done_response(content, "no-answer", step, None, method="GET")
    goodbye = goodbye_response(content, None)
    return {VOICE_FILE: str(first), VOICE_AFTER_FILE: str(after), VOICE_GOODBYE_FILE: str(goodbye)}


def sms_texts(content: Content, backup_number: str, language: str) -> list[str]:
    text_id = SMS_TEXT if SMS_TEXT in content.texts else content.sms.replies.get(SMS_TEXT_INSTEAD)
    parts = content.texts.get(text_id or "")
    if not parts:
        raise ExportError(f"the content has no text '{SMS_TEXT}' (nor '{SMS_TEXT_INSTEAD}')")
    values = {"backup_number": backup_number}
    return [fill(content, part.text(language), language, "sms", values) for part in parts]


def sms_documents(content: Content, backup_number: str) -> dict[str, str]:
    documents: dict[str, str] = {}
    every = MessagingResponse()
    for language in content.languages:
        one = MessagingResponse()
        for text in sms_texts(content, backup_number, language):
            every.message(text)
            one.message(text)
        documents[f"sms-{language}.xml"] = str(one)
    documents[SMS_FILE] = str(every)
    return documents


def fallback_documents(content: Content, backup_number: str) -> dict[str, str]:
    """Every file, by name: TwiML as text."""
    return {**voice_documents(content, backup_number), **sms_documents(content, backup_number)}


def export(content: Content, backup_number: str, directory: Path) -> list[Path]:
    """Write the files into `directory` (made if missing); returns their paths."""
    documents = fallback_documents(content, backup_number)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents.items():
        path = directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(document, encoding="utf-8")
        tmp.replace(path)  # a host syncing the directory never sees half a file
        written.append(path)
    return written
