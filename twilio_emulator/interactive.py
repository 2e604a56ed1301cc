"""Phones played by people: what the phone hears becomes a numbered list of
events anyone can read (`GET /_emulator/phones/<number>/events?after=N`), and
what the person does arrives as inputs (`POST …/input`): answer a ringing
call, press keys, say words, hang up.

Time is real for an interactive phone: a `<Gather>` waits its `timeout` (plus
the time its prompts take to say) for the person; a ringing call waits the
call's ring timeout for an answer; a caller on hold hears each waitUrl round
at the pace it would be spoken. `elapsed` on each event counts real seconds
since the phone's current call began.

One call at a time: a call to an interactive phone already on a call is busy.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from twilio_emulator.phones import ScriptError, Step, hangup, press, say, silence
from twilio_emulator.records import CallRecord
from twilio_emulator.twiml import End, Outcome

EVENT_LIMIT = 2000


class Call(Protocol):
    """What a person's phone needs of the call leg it is on (legs.CallLeg):
    passed in, as the legs that ring a person's phone import this module."""

    record: CallRecord

    def interrupted(self) -> bool: ...

    def wait_on(self, ready: Callable[[], bool], seconds: float) -> None: ...

    def take_update(self) -> Outcome: ...

    def answer(self) -> None: ...


class InteractivePhone:
    def __init__(self, number: str) -> None:
        self.number = number
        self._changed = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._first = 0  # sequence number of self._events[0] (older ones are dropped)
        self._inputs: deque[dict[str, Any]] = deque()
        self._waiting: dict[str, Any] | None = None
        self._call_sid: str | None = None
        self._call_first = 0  # sequence number of the current call's first event
        self._started = 0.0
        self._wake: Callable[[], None] | None = None

    # -- the emulator's side ------------------------------------------------

    def begin(self, call_sid: str, wake: Callable[[], None]) -> bool:
        """A call starts on this phone; False when it is already on one."""
        with self._changed:
            if self._call_sid is not None:
                return False
            self._call_sid, self._wake, self._started = call_sid, wake, time.monotonic()
            self._call_first = self._first + len(self._events)
            self._inputs.clear()
        return True

    def end(self, call_sid: str, status: str) -> None:
        with self._changed:
            if self._call_sid != call_sid:
                return
        self.event("ended", status)
        with self._changed:
            self._call_sid, self._wake, self._waiting = None, None, None
            self._changed.notify_all()

    def event(self, kind: str, text: str = "", **details: Any) -> None:
        with self._changed:
            entry = {
                "seq": self._first + len(self._events),
                "kind": kind,
                "text": text,
                "call_sid": self._call_sid,
                "elapsed": round(time.monotonic() - self._started, 1) if self._call_sid else 0,
                **{k: v for k, v in details.items() if v not in (None, "")},
            }
            self._events.append(entry)
            if len(self._events) > EVENT_LIMIT:
                drop = len(self._events) - EVENT_LIMIT
                del self._events[:drop]
                self._first += drop
            self._changed.notify_all()

    def waiting_for(self, what: dict[str, Any] | None) -> None:
        """Say what the call waits for from the person (None: nothing now)."""
        with self._changed:  # one step: a reader sees both the prompt and what it waits for
            self._waiting = what
            if what is not None:
                details = {k: v for k, v in what.items() if k != "kind"}
                self.event("prompt", what["kind"], **details)
            self._changed.notify_all()

    def take(self, *kinds: str) -> dict[str, Any] | None:
        """The oldest input of one of `kinds`, consumed; others stay queued."""
        with self._changed:
            for entry in self._inputs:
                if next(iter(entry)) in kinds:
                    self._inputs.remove(entry)
                    return entry
        return None

    def wants_hangup(self) -> bool:
        with self._changed:
            return any("hangup" in entry for entry in self._inputs)

    def step(self) -> Step | None:
        """The person's next key, words or hang-up, as a script step."""
        entry = self.take("hangup", "digits", "speech")
        if entry is None:
            return None
        if "hangup" in entry:
            return hangup()
        if "digits" in entry:
            return press(str(entry["digits"]))
        return say(str(entry["speech"]))

    # -- the person's side (control API) ------------------------------------

    def push(self, entry: dict[str, Any]) -> None:
        """One input: {"digits": "1"} | {"speech": "…"} | {"hangup": true} | {"answer": true}."""
        if len(entry) != 1:
            raise ScriptError("send exactly one of digits, speech, hangup, answer")
        ((kind, value),) = entry.items()
        if kind == "digits":
            press(str(value))  # checks the keys
        elif kind == "speech":
            if not isinstance(value, str):
                raise ScriptError("speech must be words")
            say(value)
        elif kind in ("hangup", "answer"):
            if value is not True:
                raise ScriptError(f"{kind} must be true")
        else:
            raise ScriptError("send one of digits, speech, hangup, answer")
        with self._changed:
            self._inputs.append({kind: value})
            wake = self._wake
            self._changed.notify_all()
        if wake is not None:
            wake()

    def cursor(self) -> int:
        """Where a person taking up this phone now starts to read its events:
        at the first event of the call under way (it may be ringing for them
        already), else at the next event to come (calls over are history)."""
        with self._changed:
            if self._call_sid is not None:
                return max(self._call_first, self._first)
            return self._first + len(self._events)

    def events(self, after: int = 0, wait: float = 0.0) -> dict[str, Any]:
        """Events numbered `after` and on; waits up to `wait` s for one to come."""
        deadline = time.monotonic() + max(0.0, min(wait, 30.0))
        with self._changed:
            while self._first + len(self._events) <= after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            start = max(0, after - self._first)
            return {
                "number": self.number,
                "events": list(self._events[start:]),
                "next": self._first + len(self._events),
                "on_call": self._call_sid,
                "waiting_for": self._waiting,
            }


def ask_person(leg: Call, phone: InteractivePhone, patience: float, prompt: dict[str, str]) -> Step:
    """The person's next input for a Gather or Record, waiting up to `patience`
    real seconds; silence if none comes, a zero `wait` if the leg is moved."""
    phone.waiting_for({"kind": "input", **{k: v for k, v in prompt.items() if v}})
    deadline = time.monotonic() + patience
    found: list[Step] = []

    def ready() -> bool:
        step = phone.step()
        if step is not None:
            found.append(step)
        return bool(found)

    try:
        while not found and time.monotonic() < deadline and not leg.interrupted():
            leg.wait_on(ready, deadline - time.monotonic())
    finally:
        phone.waiting_for(None)
    if found:
        return found[0]
    if leg.interrupted():
        return Step("wait", seconds=0.0)  # whoever asked takes the update
    return silence()


def ring_person(leg: Call, phone: InteractivePhone) -> End | None:
    """An interactive phone rings until its person answers (None) or declines
    (busy), the call's ring timeout passes (no-answer) or the line cancels."""
    phone.waiting_for({"kind": "answer", "from": leg.record.from_})
    deadline = time.monotonic() + leg.record.timeout
    found: list[dict[str, Any]] = []

    def ready() -> bool:
        entry = phone.take("answer", "hangup")
        if entry is not None:
            found.append(entry)
        return bool(found)

    try:
        while not found and time.monotonic() < deadline and not leg.interrupted():
            leg.wait_on(ready, deadline - time.monotonic())
    finally:
        phone.waiting_for(None)
    if not found:
        if leg.take_update() is not None:
            return End("canceled", by="api")
        return End("no-answer", by="callee")
    if "hangup" in found[0]:
        return End("busy", by="callee")
    leg.answer()
    return None
