"""The TwiML interpreter: runs one `<Response>` document verb by verb on a call
leg. Verbs are pluggable: each is a function `(leg, element) -> outcome`
registered by tag name, so `<Enqueue>`, `<Conference>` and friends can be
added without touching the loop.

An outcome is `None` (go on with the next verb), `Goto` (fetch another document
— an action, a redirect) or `End` (the leg is over). A document that runs out
of verbs hangs up, as Twilio does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin

from twilio_emulator.phones import Step
from twilio_emulator.records import CallRecord
from twilio_emulator.twiml_values import refused
from twilio_emulator.webhooks import XML_TYPES, Delivery, media_type


@dataclass(frozen=True)
class Goto:
    """Go on with another document: fetched from `url`, or `twiml` given inline
    (a REST update with `Twiml`)."""

    url: str
    params: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    twiml: str | None = None


@dataclass(frozen=True)
class End:
    status: str = "completed"
    by: str = "twiml"  # twiml | end (document ran out) | caller | api | error


Outcome = Goto | End | None


class TwimlError(Exception):
    """A document Twilio would refuse, with Twilio's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DialedLeg:
    """How one `<Number>` of a `<Dial>` went."""

    sid: str
    status: str  # completed (bridged) | no-answer | busy | failed | canceled | declined
    talk_seconds: int = 0

    @property
    def bridged(self) -> bool:
        return self.status == "completed"


class Leg(Protocol):
    """What a verb may ask of the call leg it runs on."""

    record: CallRecord
    document_url: str

    def hear(self, kind: str, text: str, **details: str) -> None: ...

    def elapse(self, seconds: float) -> None: ...

    @property
    def elapsed(self) -> float: ...

    def next_step(self, patience: float = 5.0, **prompt: str) -> Step: ...

    def hangs_up_now(self) -> bool: ...

    def wait_for_update(self, seconds: float) -> Outcome: ...

    def params(self, **extra: str) -> dict[str, str]: ...

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> Delivery: ...

    def dial_number(
        self,
        number: str,
        caller_id: str,
        timeout: int,
        whisper: Goto | None,
        status_callback: str | None,
        events: tuple[str, ...],
    ) -> DialedLeg: ...

    def cancel_number(self, number: str, caller_id: str) -> None: ...

    def keep_recording(self, sid: str, seconds: int) -> None: ...


VerbHandler = Callable[[Leg, ET.Element], Outcome]


def absolute(leg: Leg, url: str) -> str:
    """A verb's URL resolved against the document it came in, as Twilio does."""
    return urljoin(leg.document_url, url.strip())


def parse(document: str | bytes) -> ET.Element:
    try:
        root = ET.fromstring(document)  # noqa: S314 - no entities expanded by ElementTree
    except ET.ParseError as error:
        raise TwimlError(12100, f"Document parse failure: {error}") from error
    if root.tag != "Response":
        raise TwimlError(12100, f"Document parse failure: root is <{root.tag}>, not <Response>")
    return root


class Interpreter:
    def __init__(self, verbs: Mapping[str, VerbHandler]) -> None:
        self.verbs = dict(verbs)

    def with_verbs(self, extra: Mapping[str, VerbHandler]) -> Interpreter:
        return Interpreter({**self.verbs, **extra})

    def without(self, *tags: str) -> Interpreter:
        return Interpreter({tag: h for tag, h in self.verbs.items() if tag not in tags})

    def run(self, leg: Leg, root: ET.Element) -> Outcome:
        for verb in root:
            update = leg.wait_for_update(0)
            if update is not None:
                return update
            handler = self.verbs.get(verb.tag)
            if handler is None:
                raise TwimlError(12200, f"<{verb.tag}> is not supported here by the emulator")
            # Attribute values as Twilio judges them (twiml_values): a warning is
            # kept and the verb runs with its defaults; an error ends the call.
            if refused(leg.record, verb, leg.document_url):
                return End("failed", by="error")
            outcome = handler(leg, verb)
            if outcome is not None:
                return outcome
        return End("completed", by="end")


# What Twilio does with an answer, by its Content-Type ("TwiML Voice: Your
# Response", https://www.twilio.com/docs/api/twiml/your_response, "Twilio
# Understands MIME Types"): XML is TwiML; an audio file is played, then the
# call hangs up; plain text is read out, then the call hangs up. Anything else, or no Content-Type
# at all, is error 12300. text/html, listed there beside the XML types, is left
# out: Twilio's help center ("Error 12300 Invalid Content-Type for Incoming
# Webhooks") names an HTML answer as a cause of 12300 and asks for text/xml
# or application/xml, so an emulator that took it would pass what may fail.
TWIML_TYPES = XML_TYPES
# The audio types Twilio's <Play> reference lists (docs/api/2008-08-01/twiml/play).
AUDIO_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/wav",
        "audio/wave",
        "audio/x-wav",
        "audio/aiff",
        "audio/x-aifc",
        "audio/x-aiff",
        "audio/x-gsm",
        "audio/gsm",
        "audio/ulaw",
    }
)
SPOKEN_TYPE = "text/plain"


def document(delivery: Delivery) -> ET.Element:
    """The document an answered fetch gives, read by its Content-Type as Twilio
    reads it: an audio file or plain text becomes the one verb Twilio plays
    for it (the call then hangs up, as a document that runs out does)."""
    kind = media_type(delivery.content_type)
    if kind in TWIML_TYPES:
        return parse(delivery.body)
    root = ET.Element("Response")
    if kind in AUDIO_TYPES:
        ET.SubElement(root, "Play").text = delivery.url
        return root
    if kind == SPOKEN_TYPE:
        ET.SubElement(root, "Say").text = delivery.body
        return root
    shown = delivery.content_type or "none"
    raise TwimlError(12300, f"Invalid Content-Type: {shown}")


def fetch_problem(delivery: Delivery) -> tuple[int, str] | None:
    """Twilio's error for a TwiML fetch that did not give a document."""
    if delivery.status is None:
        timed_out = "Timeout" in (delivery.error or "")
        return (
            (11205, "HTTP connection failure")
            if timed_out
            else (
                11200,
                f"HTTP retrieval failure: {delivery.error}",
            )
        )
    if not delivery.ok:
        return 11200, f"HTTP retrieval failure: status {delivery.status}"
    try:
        document(delivery)
    except TwimlError as error:
        return error.code, error.message
    return None
