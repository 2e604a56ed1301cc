"""A person plays a virtual phone of a running emulator, in the terminal: the
phone is made interactive through the control API, what it hears is printed
with the elapsed time ([mm:ss]), and the person's keys, words and hang-ups
are sent back as inputs. Used by `helpline simulate call|counselor|sms`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import requests

from twilio_emulator.inbox import Inbox, describe_text, stamp
from twilio_emulator.keyboard import Answers, Ask, Keyboard

Show = Callable[[str], None]
HTTP_TIMEOUT = 10.0
POLL_WAIT = 1.0  # seconds each events request waits for something to happen
DEFAULT_EMULATOR = "http://127.0.0.1:{port}"


class ControlClient:
    """The emulator's `/_emulator/` JSON API."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base = base_url.rstrip("/") + "/_emulator"
        self.session = session or requests.Session()

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(self.base + path, params=params, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.base + path, json=body, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def about(self, timeout: float = 1.0) -> dict[str, Any] | None:
        """What the emulator says of itself, or None when none answers there."""
        try:
            response = self.session.get(self.base + "/", timeout=timeout)
            about: dict[str, Any] = response.json()
        except (requests.RequestException, ValueError):
            return None
        return about if response.ok and "line_number" in about else None

    def interactive(self, number: str) -> int:
        """Make `number` a phone a person plays; the sequence number of the
        first event for them to read (a call already ringing there included)."""
        return int(self._post(f"/phones/{number}/interactive", {"interactive": True})["next"])

    def events(self, number: str, after: int, wait: float = POLL_WAIT) -> dict[str, Any]:
        return self._get(f"/phones/{number}/events", after=after, wait=wait)

    def send(self, number: str, **entry: Any) -> None:
        self._post(f"/phones/{number}/input", entry)

    def call_line(self, caller: str) -> dict[str, Any]:
        return self._post("/calls", {"from": caller})

    def text_line(self, sender: str, body: str) -> dict[str, Any]:
        return self._post("/messages", {"from": sender, "body": body})

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get("/messages")["messages"]
        return found

    def refused_texts(self, to: str, since: float) -> list[dict[str, Any]]:
        """The line's requests to text `to` that the emulator, as Twilio,
        refused since `since` (epoch seconds): each with its status and code."""
        requests_made: list[dict[str, Any]] = self._get("/log")["requests"]
        return [
            entry
            for entry in requests_made
            if entry.get("method") == "POST"
            and str(entry.get("path", "")).endswith("/Messages.json")
            and (entry.get("params") or {}).get("To") == to
            and int(entry.get("status") or 0) >= 400
            and float(entry.get("received") or 0) >= since
        ]


def emulator_candidates(explicit: str | None, api_url: str | None) -> list[str]:
    """Where to look for the emulator, in order: `--emulator`, else
    HELPLINE_TWILIO_API_URL, and (without real Twilio credentials) the one
    `make run` starts on HELPLINE_EMULATOR_PORT (5100)."""
    candidates = [explicit] if explicit else [api_url]
    if not explicit and not os.environ.get("TWILIO_ACCOUNT_SID"):
        port = os.environ.get("HELPLINE_EMULATOR_PORT", "5100")
        candidates.append(DEFAULT_EMULATOR.format(port=port))
    return list(dict.fromkeys(c.rstrip("/") for c in candidates if c))


def find_emulator(explicit: str | None, api_url: str | None) -> str | None:
    """The first of `emulator_candidates` where an emulator answers; None: none does."""
    for candidate in emulator_candidates(explicit, api_url):
        if ControlClient(candidate).about() is not None:
            return candidate
    return None


SHOWN = {
    "say": "🔊 ({language}) {text}",
    "play": "♪  {text}",
    "pause": "…  pause {text} s",
    "digits": "☎  tones {text}",
    "beep": "🔴 beep — recording",
    "pressed": "you pressed {text}",
    "said": 'you said "{text}"',
    "recorded": 'recorded: "{text}"',
    "silence": "(silence)",
    "enqueued": "on hold (queue {text})",
    "queue-full": "the queue {text} is full",
    "queue-result": "left the queue: {text}",
    "bridged": "connected to {text}",
    "dial-result": "dial ended: {text}",
    "application-error": "⚠  {text}",
    "hung-up": "you hung up ({text})",
    "ended": "call ended ({text})",
}


def describe(event: dict[str, Any]) -> str | None:
    """One heard event as the terminal shows it (None: not worth a line)."""
    kind, text = event["kind"], event.get("text", "")
    if kind == "prompt" and text == "answer":
        return f"📞 ringing — a call from {event.get('from', 'the line')}"
    template = SHOWN.get(kind)
    if template is None:
        return None
    return template.format(text=text, language=event.get("language", "en-US"))


ANSWER_POLL = 0.2  # seconds between looks at the phone while a question is open


class PhoneConsole:
    """Follows one interactive phone: prints what it hears (a sentence said
    twice in a row, as a counselor's whisper is, once), and the texts it
    receives when given an inbox; asks the person when the call waits for
    them, and keeps listening while it asks: a question the call no longer
    waits for (the caller hung up) is taken back."""

    def __init__(
        self,
        client: ControlClient,
        number: str,
        ask: Ask | None = None,
        show: Show = print,
        *,
        keyboard: Keyboard | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        self.client = client
        self.number = number
        self.show = show
        if keyboard is None:
            keyboard = Answers(ask if ask is not None else input)
        self.keyboard = keyboard
        self.inbox = inbox
        self.next = 0
        self._answered_prompt = -1
        self._prompt_seq = -1
        self._bridged_at = -1
        self._bridge_seq = -1
        self._question: str | None = None  # "answer", "input" or "talk" while one is open
        self._said = ""  # the last sentence shown, while nothing else came between
        self._elapsed = 0.0
        self._elapsed_seen = time.monotonic()
        self._hung_up = False  # by the person, not by the other side

    def start(self) -> None:
        # The cursor comes with the registration itself: asking for it in a
        # second request would skip whatever the phone heard in between — a
        # call ringing as soon as the phone exists would never be seen.
        self.next = self.client.interactive(self.number)

    def _out(self, line: str) -> None:
        self.keyboard.aside()
        self.show(line)

    def _heard(self, event: dict[str, Any]) -> None:
        self._elapsed = float(event.get("elapsed", 0) or 0)
        self._elapsed_seen = time.monotonic()
        line = describe(event)
        if line is None:
            return
        if event["kind"] == "say":
            if line == self._said:
                return  # said again at once: shown once
            self._said = line
        else:
            self._said = ""
        self._out(f"{stamp(self._elapsed)} {line}")

    def _texts(self) -> None:
        if self.inbox is None:
            return
        for message in self.inbox.new():
            self._said = ""
            # The call's clock, run on from its last event: a text has none of its own.
            elapsed = self._elapsed + time.monotonic() - self._elapsed_seen
            self._out(f"{stamp(elapsed)} {describe_text(message)}")

    def follow(self, deadline: float | None = None) -> str | None:
        """Until the current call ends (its final status) or `deadline` passes
        with no call (None)."""
        on_call = False
        self._hung_up = False
        while True:
            wait = ANSWER_POLL if self._question else POLL_WAIT
            page = self.client.events(self.number, self.next, wait=wait)
            for event in page["events"]:
                self.next = event["seq"] + 1
                kind = event["kind"]
                if kind == "ended":
                    return self._ended(event)
                if kind == "prompt":
                    self._prompt_seq = event["seq"]
                elif kind == "bridged":
                    self._bridge_seq = event["seq"]
                self._heard(event)
                on_call = on_call or event.get("call_sid") is not None
            self._texts()
            self.keyboard.resume()
            self._keep_or_withdraw(page)
            waiting = page.get("waiting_for")
            if self._question is None:
                if waiting and self._prompt_seq > self._answered_prompt:
                    self._answered_prompt = self._prompt_seq
                    self._ask(waiting)
                elif self._bridge_seq > self._bridged_at and page.get("on_call"):
                    self._bridged_at = self._bridge_seq
                    self._put("talk", "(talking) Enter or q hangs up > ")
            if self._question is not None:
                reply = self.keyboard.answer(ANSWER_POLL)
                if reply is not None:
                    self._reply(reply)
            idle = not on_call and page.get("on_call") is None
            if idle and deadline is not None and time.monotonic() > deadline:
                return None

    def _ended(self, event: dict[str, Any]) -> str:
        talking = self._question == "talk"
        if self._question is not None:
            self.keyboard.withdraw()
            self._question = None
        self._heard(event)
        if talking and not self._hung_up:
            self.show(f"{stamp(self._elapsed)} the other side hung up")
        self._said = ""
        return str(event.get("text", "ended"))

    def _keep_or_withdraw(self, page: dict[str, Any]) -> None:
        """Withdraw the open question once the call no longer waits for it."""
        if self._question is None:
            return
        if self._question == "talk":
            still = page.get("on_call") is not None and not page.get("waiting_for")
        else:
            waiting = page.get("waiting_for") or {}
            still = (
                waiting.get("kind") == self._question and self._prompt_seq == self._answered_prompt
            )
        if not still:
            self.keyboard.withdraw()
            self._question = None

    def _put(self, kind: str, question: str) -> None:
        self._question = kind
        self.keyboard.ask(question)

    def _ask(self, waiting: dict[str, Any]) -> None:
        if waiting.get("kind") == "answer":
            self._put("answer", "ringing — answer? [y/N] > ")
        elif waiting.get("input") == "record":
            self._put("input", "speak your message (Enter: say nothing, q: hang up) > ")
        else:
            self._put("input", "keys or words (Enter: stay silent, q: hang up) > ")

    def _reply(self, reply: str) -> None:
        kind, self._question = self._question, None
        reply = reply.strip()
        if kind == "answer":
            if reply.lower() in ("y", "yes"):
                self._send(answer=True)
            else:
                self._send(hangup=True)
        elif kind == "talk":
            if reply.lower() in ("", "q"):
                self._hung_up = True
                self._send(hangup=True)
        elif reply.lower() == "q":
            self._hung_up = True
            self._send(hangup=True)
        elif reply and all(ch in "0123456789*#" for ch in reply):
            self._send(digits=reply)
        elif reply:
            self._send(speech=reply)

    def _send(self, **entry: Any) -> None:
        try:
            self.client.send(self.number, **entry)
        except requests.HTTPError as error:
            # The call moved on between the question and the answer (it ended,
            # or stopped waiting): nothing to send it to any more.
            if error.response is None or error.response.status_code != 400:
                raise

    def hang_up(self) -> None:
        self._hung_up = True
        self._send(hangup=True)
