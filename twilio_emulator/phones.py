"""Virtual phones and their scripts.

A script says how a phone answers (a person, voicemail, no answer, busy) and
what its person does at each moment the call waits for them — a `<Gather>` or a
`<Record>`: press keys, say words, stay silent, hang up, or wait (in real time)
for the line to move the call. Two steps are taken at other moments: `give_up`
when the phone is put in a queue (`<Enqueue>`), `talk` when it is bridged to
another phone. Every call a phone takes part in plays its script from the
start; a phone whose script has run out hangs up at the next moment it is
asked for something — except while it waits in a queue, where it stays on
hold, silent. Voicemail answers and never presses a key.

A phone can instead be played by a person (`interactive.py`): its steps then
come from the control API, one at a time, as the call asks for them. Which of
the two plays a phone, and how far a call has got in its script, is
phonebook.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Answer(StrEnum):
    PERSON = "answer"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"

    @property
    def picks_up(self) -> bool:
        return self in (Answer.PERSON, Answer.VOICEMAIL)


class ScriptError(ValueError):
    """A script that cannot be played."""


@dataclass(frozen=True)
class Step:
    kind: str  # press | say | silence | hangup | wait | talk | give_up
    value: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any] | str:
        if self.kind in ("silence", "hangup"):
            return self.kind
        if self.kind in ("wait", "talk", "give_up"):
            return {self.kind: self.seconds}
        return {self.kind: self.value}


def press(digits: str) -> Step:
    if not digits or any(ch not in "0123456789*#w" for ch in digits):
        raise ScriptError(f"cannot press {digits!r}")
    return Step("press", digits)


def say(words: str) -> Step:
    if not words.strip():
        raise ScriptError("say needs words")
    return Step("say", words.strip())


def silence() -> Step:
    return Step("silence")


def hangup() -> Step:
    return Step("hangup")


def wait(seconds: float) -> Step:
    """Stay on the line, silent, up to `seconds` of real time, so that a test can
    redirect or end the call (REST update) while it is in progress."""
    if not 0 < seconds <= 120:
        raise ScriptError("wait must be between 0 and 120 seconds")
    return Step("wait", seconds=seconds)


def talk(seconds: float) -> Step:
    """Once bridged to another phone (a queue's caller, a counselor), talk for
    `seconds` of real time, then hang up. Without it a bridged phone stays until
    the other side hangs up — or, when neither side has a `talk` step, the
    dequeuing side hangs up after its script's `talk_seconds` of virtual time."""
    if not 0 <= seconds <= 600:
        raise ScriptError("talk must be between 0 and 600 seconds")
    return Step("talk", seconds=seconds)


def give_up(seconds: float) -> Step:
    """When put in a queue (`<Enqueue>`), hang up if still waiting after
    `seconds` of real time (the line gets QueueResult=hangup)."""
    if not 0 <= seconds <= 600:
        raise ScriptError("give_up must be between 0 and 600 seconds")
    return Step("give_up", seconds=seconds)


OUT_OF_BAND = ("talk", "give_up")  # steps taken at their own moment, never by a Gather
VOICEMAIL_PATIENCE = 3  # silent prompts a voicemail box sits through before it hangs up


@dataclass(frozen=True)
class Script:
    answer: Answer = Answer.PERSON
    steps: tuple[Step, ...] = ()
    talk_seconds: int = 30  # how long a bridged conversation lasts (virtual time)
    ring_seconds: float = 0.0  # real time the phone rings before it answers (or not)
    # One call at a time, as a person's phone: a call while it is on another
    # (ringing included) meets busy. Off: it takes any number at once (a call centre).
    single_line: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer.value,
            "steps": [step.as_json() for step in self.steps],
            "talk_seconds": self.talk_seconds,
            "ring_seconds": self.ring_seconds,
            "single_line": self.single_line,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        unknown = set(data) - {"answer", "steps", "talk_seconds", "ring_seconds", "single_line"}
        if unknown:
            raise ScriptError(f"unknown script field(s): {', '.join(sorted(unknown))}")
        try:
            answer = Answer(data.get("answer", "answer"))
        except ValueError as error:
            choices = ", ".join(a.value for a in Answer)
            raise ScriptError(f"answer must be one of {choices}") from error
        raw_steps = data.get("steps", [])
        if not isinstance(raw_steps, list):
            raise ScriptError("steps must be a list")
        talk = data.get("talk_seconds", 30)
        if not isinstance(talk, int) or talk < 0:
            raise ScriptError("talk_seconds must be a whole number of seconds")
        ring = data.get("ring_seconds", 0)
        if not isinstance(ring, int | float) or not 0 <= ring <= 120:
            raise ScriptError("ring_seconds must be between 0 and 120")
        single_line = data.get("single_line", False)
        if not isinstance(single_line, bool):
            raise ScriptError("single_line must be true or false")
        steps = tuple(_step(raw) for raw in raw_steps)
        return cls(answer, steps, talk, float(ring), single_line)


def _step(raw: object) -> Step:
    if raw == "silence":
        return silence()
    if raw == "hangup":
        return hangup()
    if isinstance(raw, dict) and len(raw) == 1:
        ((kind, value),) = raw.items()
        if kind == "press" and isinstance(value, str | int):
            return press(str(value))
        if kind == "say" and isinstance(value, str):
            return say(value)
        if kind in ("wait", "talk", "give_up") and isinstance(value, int | float):
            return {"wait": wait, "talk": talk, "give_up": give_up}[kind](float(value))
    raise ScriptError(
        f'unknown step {raw!r}: use "silence", "hangup", {{"press": "1"}}, '
        '{"say": "words"}, {"wait": seconds}, {"talk": seconds} or {"give_up": seconds}'
    )


def script(
    answer: Answer | str = Answer.PERSON,
    steps: Sequence[Step] = (),
    talk_seconds: int = 30,
    ring_seconds: float = 0.0,
    single_line: bool = False,
) -> Script:
    """A script from Python: `script(steps=[press("4"), press("1"), hangup()])`."""
    return Script(Answer(answer), tuple(steps), talk_seconds, ring_seconds, single_line)
