"""The voice verbs the emulator plays: Say, Play, Pause, Gather, Redirect,
Hangup, Reject, Record (and Dial, in dial.py).

Time is virtual: a `<Say>` of twenty words adds eight seconds to the call's
duration without anyone waiting for it, so tests stay fast. Attributes and the
fields posted follow Twilio's TwiML reference (docs/voice/twiml/<verb>).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from twilio_emulator.ids import API_VERSION, new_sid
from twilio_emulator.twiml import End, Goto, Leg, Outcome, absolute

WORDS_PER_SECOND = 2.5


def _number(element: ET.Element, name: str, default: float) -> float:
    try:
        return float(element.get(name, default))
    except ValueError:
        return default


def say(leg: Leg, verb: ET.Element) -> Outcome:
    text = " ".join((verb.text or "").split())
    loops = max(1, int(_number(verb, "loop", 1)))
    leg.hear("say", text, language=verb.get("language", "en-US"), voice=verb.get("voice", ""))
    leg.elapse(loops * max(1.0, len(text.split()) / WORDS_PER_SECOND))
    return None


def play(leg: Leg, verb: ET.Element) -> Outcome:
    digits = verb.get("digits")
    if digits:
        leg.hear("digits", digits)
        return None
    leg.hear("play", absolute(leg, verb.text or ""))
    leg.elapse(max(1, int(_number(verb, "loop", 1))) * 5)
    return None


def pause(leg: Leg, verb: ET.Element) -> Outcome:
    length = _number(verb, "length", 1)
    leg.hear("pause", f"{length:g}")
    leg.elapse(length)
    return None


def hangup(leg: Leg, verb: ET.Element) -> Outcome:
    return End("completed", by="twiml")


def reject(leg: Leg, verb: ET.Element) -> Outcome:
    """Refuses the call unanswered; `reason="busy"` plays a busy signal."""
    return End("busy" if verb.get("reason") == "busy" else "no-answer", by="twiml")


def redirect(leg: Leg, verb: ET.Element) -> Outcome:
    return Goto(absolute(leg, verb.text or ""), leg.params(), verb.get("method", "POST").upper())


def _action(leg: Leg, verb: ET.Element) -> str:
    """Gather and Record post to `action`, or else to the document they came in."""
    return absolute(leg, verb.get("action", "") or leg.document_url)


def _prompts(leg: Leg, gather: ET.Element) -> None:
    nested = {"Say": say, "Play": play, "Pause": pause}
    for child in gather:
        handler = nested.get(child.tag)
        if handler is not None:
            handler(leg, child)


def gather(leg: Leg, verb: ET.Element) -> Outcome:
    """Waits for the phone's next step: keys (`input` has dtmf), words (`input`
    has speech), silence (falls through to the next verb after `timeout`, or
    posts an empty result with `actionOnEmptyResult`), or a hang-up."""
    before = leg.elapsed
    _prompts(leg, verb)
    inputs = set(verb.get("input", "dtmf").split())
    method = verb.get("method", "POST").upper()
    # A person (interactive phone) has the prompts' spoken time plus `timeout`.
    patience = leg.elapsed - before + _number(verb, "timeout", 5)
    step = leg.next_step(
        patience, input=" ".join(sorted(inputs)), num_digits=verb.get("numDigits", "")
    )
    if step.kind == "wait":
        update = leg.wait_for_update(step.seconds)
        if update is not None:
            return update
    if step.kind == "hangup":
        return End("completed", by="caller")
    if step.kind == "press" and "dtmf" in inputs:
        digits = step.value
        finish = verb.get("finishOnKey", "#")
        num_digits = int(_number(verb, "numDigits", 0))
        # The key that ended the input, or "" (numDigits reached): Twilio posts
        # it as FinishedOnKey, which its <Gather> page does not list but its
        # requests carry (docs/emulator.md, "Fields Twilio adds").
        finished_on = ""
        if finish and finish in digits:
            at = digits.index(finish)
            if num_digits <= 0 or at < num_digits:
                finished_on = finish
            digits = digits[:at]
        if num_digits > 0:
            digits = digits[:num_digits]
        leg.hear("pressed", step.value)
        leg.elapse(len(step.value))
        return Goto(
            _action(leg, verb), leg.params(Digits=digits, FinishedOnKey=finished_on), method
        )
    if step.kind == "say" and "speech" in inputs:
        leg.hear("said", step.value)
        leg.elapse(max(1.0, len(step.value.split()) / WORDS_PER_SECOND))
        return Goto(
            _action(leg, verb),
            leg.params(SpeechResult=step.value, Confidence="0.92"),
            method,
        )
    # Silence, or input this Gather does not listen for.
    leg.hear("silence", "")
    leg.elapse(_number(verb, "timeout", 5))
    if verb.get("actionOnEmptyResult", "false").lower() == "true":
        return Goto(_action(leg, verb), leg.params(), method)
    return None


def record(leg: Leg, verb: ET.Element) -> Outcome:
    """Records the phone's next step: words make a recording (posted to
    `action`); a key ends it at once; silence records nothing and goes on to
    the next verb; a hang-up ends the call.

    Words followed at once by a hang-up (a script's `say(...)`, `hangup()`)
    are a caller hanging up mid-message: Twilio still requests the action,
    with `Digits=hangup` and the recording, and ignores its answer (TwiML
    <Record>: "Digits: the key (if any) pressed to end the recording or
    'hangup' if the caller hung up"). A hang-up before any words leaves an
    empty recording, for which Twilio requests no action."""
    if verb.get("playBeep", "true").lower() != "false":
        leg.hear("beep", "")
    step = leg.next_step(min(120.0, _number(verb, "maxLength", 60)), input="record")
    if step.kind == "wait":
        update = leg.wait_for_update(step.seconds)
        if update is not None:
            return update
    if step.kind == "hangup":
        return End("completed", by="caller")
    if step.kind not in ("say", "press"):
        leg.hear("silence", "")
        leg.elapse(_number(verb, "timeout", 5))
        return None
    max_length = max(1, int(_number(verb, "maxLength", 3600)))
    if step.kind == "say":
        leg.hear("recorded", step.value)
        seconds = min(max_length, math.ceil(len(step.value.split()) / WORDS_PER_SECOND))
    else:
        leg.hear("pressed", step.value)
        seconds = 1
    leg.elapse(seconds)
    sid = new_sid("RE")
    leg.keep_recording(sid, max(1, seconds))
    account = leg.record.account_sid
    recording_url = f"https://api.twilio.com/{API_VERSION}/Accounts/{account}/Recordings/{sid}"
    fields = {
        "RecordingUrl": recording_url,
        "RecordingSid": sid,
        "RecordingDuration": str(max(1, seconds)),
    }
    hung_up = step.kind == "say" and leg.hangs_up_now()
    if step.kind == "press":
        fields["Digits"] = step.value[:1]
    elif hung_up:
        fields.update(Digits="hangup", CallStatus="completed")
    callback = verb.get("recordingStatusCallback")
    if callback:
        leg.send(
            absolute(leg, callback),
            {
                "AccountSid": account,
                "CallSid": leg.record.sid,
                "RecordingSid": sid,
                "RecordingUrl": recording_url,
                "RecordingStatus": "completed",
                "RecordingDuration": str(max(1, seconds)),
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            },
            verb.get("recordingStatusCallbackMethod", "POST"),
        )
    method = verb.get("method", "POST").upper()
    if hung_up:
        leg.send(_action(leg, verb), leg.params(**fields), method)  # its answer unheard
        return End("completed", by="caller")
    return Goto(_action(leg, verb), leg.params(**fields), method)
