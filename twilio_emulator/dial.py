"""`<Dial>`: ring other phones and bridge the first to pick up.

Twilio rings up to ten `<Number>`s at once and connects the first that answers
(and, with a `url` whisper, does not hang up during it); the rest are hung up.
The emulator decides "first" by document order: the first number whose phone
answers and accepts is bridged, the ones after it are canceled. A bridged
conversation lasts the callee script's `talk_seconds`, then the callee hangs
up and the caller's call goes on: to the Dial `action` with `DialCallStatus`,
`DialCallSid`, `DialCallDuration`, `DialBridged`, or else to the next verb.

When no one is bridged, `DialCallStatus` is `busy` if every leg was busy,
`failed` if every leg failed, and otherwise `no-answer` — including legs that
answered but declined in the whisper (an assumption; Twilio's documentation
does not say).

A `<Queue>` noun dials a queue instead (dequeue.py): the first caller waiting
in it is bridged. `<Client>`, `<Sip>` and `<Conference>` nouns are not
emulated: a Dial of only those ends `failed` and the call notes the error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from twilio_emulator.dequeue import dial_queue
from twilio_emulator.twiml import DialedLeg, Goto, Leg, Outcome, absolute

MAX_NUMBERS = 10


def _events(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ("completed",)
    return tuple(event for event in raw.replace(",", " ").split() if event)


def _targets(verb: ET.Element) -> list[ET.Element]:
    bare = (verb.text or "").strip()
    if bare:
        number = ET.Element("Number")
        number.text = bare
        return [number]
    return list(verb)[:MAX_NUMBERS]


def _overall(legs: list[DialedLeg]) -> str:
    if any(leg.bridged for leg in legs):
        return "completed"
    statuses = {leg.status for leg in legs}
    if statuses == {"busy"}:
        return "busy"
    if not statuses or statuses == {"failed"}:
        return "failed"
    return "no-answer"


def dial(leg: Leg, verb: ET.Element) -> Outcome:
    timeout = max(5, min(600, int(float(verb.get("timeout", "30") or 30))))
    caller_id = verb.get("callerId") or leg.record.from_
    queue = next((target for target in _targets(verb) if target.tag == "Queue"), None)
    if queue is not None:
        return dial_queue(leg, verb, queue, timeout)
    legs: list[DialedLeg] = []
    bridged: DialedLeg | None = None
    for target in _targets(verb):
        number = (target.text or "").strip()
        if target.tag != "Number":
            leg.hear("dial-unsupported", f"<{target.tag}>{number}")
            leg.record.errors.append(
                {"code": None, "message": f"<Dial><{target.tag}> is not emulated"}
            )
            continue
        if bridged is not None:
            leg.cancel_number(number, caller_id)
            continue
        whisper_url = target.get("url")
        whisper = (
            Goto(absolute(leg, whisper_url), {}, target.get("method", "POST").upper())
            if whisper_url
            else None
        )
        callback = target.get("statusCallback")
        outcome = leg.dial_number(
            number,
            caller_id,
            timeout,
            whisper,
            absolute(leg, callback) if callback else None,
            _events(target.get("statusCallbackEvent")),
        )
        legs.append(outcome)
        if outcome.bridged:
            bridged = outcome
    status = _overall(legs)
    leg.hear("dial-result", status)
    action = verb.get("action")
    if not action:
        return None
    # DialBridged: whether the caller was connected to a dialed party
    # (TwiML <Dial>, action parameters).
    fields = {"DialCallStatus": status, "DialBridged": str(bridged is not None).lower()}
    if bridged is not None:
        fields.update(DialCallSid=bridged.sid, DialCallDuration=str(bridged.talk_seconds))
    elif legs:
        fields.update(DialCallSid=legs[-1].sid, DialCallDuration="0")
    return Goto(absolute(leg, action), leg.params(**fields), verb.get("method", "POST").upper())
