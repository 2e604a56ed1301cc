"""Virtual phones and their scripts.

A script says how a phone answers (a person, voicemail, no answer, busy) and
what its person does at each moment the call waits for them — a `<Gather>` or a
`<Record>`: press keys, say words, stay silent, hang up, or wait (in real time)
for the line to move the call. Every call a phone takes part in plays its
script from the start; a phone whose script has run out hangs up at the next
moment it is asked for something. Voicemail answers and never presses a key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
    kind: str  # press | say | silence | hangup | wait
    value: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any] | str:
        if self.kind in ("silence", "hangup"):
            return self.kind
        if self.kind == "wait":
            return {"wait": self.seconds}
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


VOICEMAIL_PATIENCE = 3  # silent prompts a voicemail box sits through before it hangs up


@dataclass(frozen=True)
class Script:
    answer: Answer = Answer.PERSON
    steps: tuple[Step, ...] = ()
    talk_seconds: int = 30  # how long a bridged conversation lasts (virtual time)
    ring_seconds: float = 0.0  # real time the phone rings before it answers (or not)

    def as_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer.value,
            "steps": [step.as_json() for step in self.steps],
            "talk_seconds": self.talk_seconds,
            "ring_seconds": self.ring_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        unknown = set(data) - {"answer", "steps", "talk_seconds", "ring_seconds"}
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
        return cls(answer, tuple(_step(raw) for raw in raw_steps), talk, float(ring))


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
        if kind == "wait" and isinstance(value, int | float):
            return wait(float(value))
    raise ScriptError(
        f'unknown step {raw!r}: use "silence", "hangup", '
        '{"press": "1"}, {"say": "words"} or {"wait": seconds}'
    )


@dataclass
class Performer:
    """One phone's part in one call: its script, played step by step."""

    script: Script
    _steps: Iterator[Step] = field(init=False)
    _silent_prompts: int = 0

    def __post_init__(self) -> None:
        self._steps = iter(self.script.steps)

    def next_step(self) -> Step:
        """What the person does now that the call waits for them."""
        if self.script.answer is Answer.VOICEMAIL:
            self._silent_prompts += 1
            return silence() if self._silent_prompts <= VOICEMAIL_PATIENCE else hangup()
        return next(self._steps, hangup())


class PhoneBook:
    """The scripts of every virtual phone, by number. An unknown number is a
    person who answers and, with nothing to do, hangs up when asked anything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}

    def set(self, number: str, script: Script) -> None:
        with self._lock:
            self._scripts[number] = script

    def script(self, number: str) -> Script:
        with self._lock:
            return self._scripts.get(number, Script())

    def performer(self, number: str) -> Performer:
        return Performer(self.script(number))

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {number: script.as_json() for number, script in self._scripts.items()}

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()


def script(
    answer: Answer | str = Answer.PERSON,
    steps: Sequence[Step] = (),
    talk_seconds: int = 30,
    ring_seconds: float = 0.0,
) -> Script:
    """A script from Python: `script(steps=[press("4"), press("1"), hangup()])`."""
    return Script(Answer(answer), tuple(steps), talk_seconds, ring_seconds)
