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
from twilio_emulator.webhooks import Delivery


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
            outcome = handler(leg, verb)
            if outcome is not None:
                return outcome
        return End("completed", by="end")


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
        parse(delivery.body)
    except TwimlError as error:
        return error.code, error.message
    return None
