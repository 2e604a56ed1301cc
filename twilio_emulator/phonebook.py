"""Who plays each virtual phone, by number — its script (phones.py) or a
person (interactive.py) — and each phone's part in one call.

Kept apart from the scripts because it needs both kinds of phone, and a
person's phone is itself built on the scripts' steps.
"""

from __future__ import annotations

import threading
from typing import Any

from twilio_emulator.interactive import InteractivePhone
from twilio_emulator.phones import (
    OUT_OF_BAND,
    VOICEMAIL_PATIENCE,
    Answer,
    Script,
    Step,
    hangup,
    silence,
)


class Performer:
    """One phone's part in one call: its script, played step by step (or, for
    an interactive phone, the person at the other end of the control API)."""

    def __init__(
        self, script: Script, phone: InteractivePhone | None = None, number: str = ""
    ) -> None:
        self.script = script
        self.phone = phone
        self.number = number
        self._lock = threading.Lock()
        self._index = 0
        self._silent_prompts = 0

    @property
    def interactive(self) -> bool:
        return self.phone is not None

    def next_step(self, in_queue: bool = False) -> Step:
        """What the person does now that the call waits for them (scripts only;
        an interactive phone's leg asks the person instead)."""
        if self.script.answer is Answer.VOICEMAIL:
            self._silent_prompts += 1
            return silence() if self._silent_prompts <= VOICEMAIL_PATIENCE else hangup()
        with self._lock:
            if self._index < len(self.script.steps):
                step = self.script.steps[self._index]
                if step.kind in OUT_OF_BAND:
                    return silence()  # kept for its own moment
                self._index += 1
                return step
        return silence() if in_queue else hangup()

    def take(self, kind: str) -> Step | None:
        """The next step if it is of `kind` (`talk`, `give_up`), consumed."""
        with self._lock:
            if self._index < len(self.script.steps):
                step = self.script.steps[self._index]
                if step.kind == kind:
                    self._index += 1
                    return step
        return None


class PhoneBook:
    """The scripts of every virtual phone, by number. An unknown number is a
    person who answers and, with nothing to do, hangs up when asked anything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}
        self._interactive: dict[str, InteractivePhone] = {}
        self._engaged: set[str] = set()  # single-line phones on a call now

    def set(self, number: str, script: Script) -> None:
        with self._lock:
            self._scripts[number] = script
            self._interactive.pop(number, None)

    def set_interactive(self, number: str, phone: InteractivePhone | None) -> None:
        with self._lock:
            if phone is None:
                self._interactive.pop(number, None)
            else:
                self._interactive[number] = phone

    def interactive(self, number: str) -> InteractivePhone | None:
        with self._lock:
            return self._interactive.get(number)

    def script(self, number: str) -> Script:
        with self._lock:
            return self._scripts.get(number, Script())

    def performer(self, number: str) -> Performer:
        return Performer(self.script(number), self.interactive(number), number)

    def engage(self, number: str) -> bool:
        """Take a single-line phone's line for a call; False: it is on another."""
        with self._lock:
            if number in self._engaged:
                return False
            self._engaged.add(number)
            return True

    def release(self, number: str) -> None:
        with self._lock:
            self._engaged.discard(number)

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            found: dict[str, dict[str, Any]] = {
                number: script.as_json() for number, script in self._scripts.items()
            }
            for number in self._interactive:
                found[number] = {"interactive": True}
            return found

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._interactive.clear()
