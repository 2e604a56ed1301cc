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

Ask = Callable[[str], str]
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


def find_emulator(explicit: str | None, api_url: str | None) -> str | None:
    """The emulator to use: `--emulator`, else HELPLINE_TWILIO_API_URL when an
    emulator answers there, else (without real Twilio credentials) the one
    `make run` starts on port 5100. None: no emulator is reachable."""
    candidates = [explicit] if explicit else [api_url]
    if not explicit and not os.environ.get("TWILIO_ACCOUNT_SID"):
        port = os.environ.get("HELPLINE_EMULATOR_PORT", "5100")
        candidates.append(DEFAULT_EMULATOR.format(port=port))
    for candidate in candidates:
        if candidate and ControlClient(candidate).about() is not None:
            return candidate.rstrip("/")
    return None


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"[{whole // 60:02d}:{whole % 60:02d}]"


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


class PhoneConsole:
    """Follows one interactive phone: prints what it hears, asks the person
    when the call waits for them."""

    def __init__(self, client: ControlClient, number: str, ask: Ask, show: Show) -> None:
        self.client = client
        self.number = number
        self.ask = ask
        self.show = show
        self.next = 0
        self._answered_prompt = -1
        self._bridged_at = -1

    def start(self) -> None:
        # The cursor comes with the registration itself: asking for it in a
        # second request would skip whatever the phone heard in between — a
        # call ringing as soon as the phone exists would never be seen.
        self.next = self.client.interactive(self.number)

    def follow(self, deadline: float | None = None) -> str | None:
        """Until the current call ends (its final status) or `deadline` passes
        with no call (None)."""
        on_call = False
        while True:
            page = self.client.events(self.number, self.next)
            last_prompt, last_bridge = -1, -1
            for event in page["events"]:
                self.next = event["seq"] + 1
                line = describe(event)
                if line is not None:
                    self.show(f"{stamp(event.get('elapsed', 0))} {line}")
                if event["kind"] == "ended":
                    return str(event.get("text", "ended"))
                if event["kind"] == "prompt":
                    last_prompt = event["seq"]
                if event["kind"] == "bridged":
                    last_bridge = event["seq"]
                on_call = on_call or event.get("call_sid") is not None
            waiting = page.get("waiting_for")
            if waiting and last_prompt > self._answered_prompt:
                self._answered_prompt = last_prompt
                self._respond(waiting)
            elif last_bridge > self._bridged_at and page.get("on_call"):
                self._bridged_at = last_bridge
                reply = self.ask("(talking) Enter or q hangs up > ")
                if reply.strip().lower() in ("", "q"):
                    self.client.send(self.number, hangup=True)
            idle = not on_call and page.get("on_call") is None
            if idle and deadline is not None and time.monotonic() > deadline:
                return None

    def _respond(self, waiting: dict[str, Any]) -> None:
        if waiting.get("kind") == "answer":
            reply = self.ask("ringing — answer? [y/N] > ").strip().lower()
            if reply in ("y", "yes"):
                self.client.send(self.number, answer=True)
            else:
                self.client.send(self.number, hangup=True)
            return
        if waiting.get("input") == "record":
            reply = self.ask("speak your message (Enter: say nothing, q: hang up) > ")
        else:
            reply = self.ask("keys or words (Enter: stay silent, q: hang up) > ")
        reply = reply.strip()
        if reply.lower() == "q":
            self.client.send(self.number, hangup=True)
        elif reply and all(ch in "0123456789*#" for ch in reply):
            self.client.send(self.number, digits=reply)
        elif reply:
            self.client.send(self.number, speech=reply)

    def hang_up(self) -> None:
        self.client.send(self.number, hangup=True)


def watch_texts(client: ControlClient, sender: str, body: str, seconds: float, show: Show) -> None:
    """Text the line from `sender`; show the inline reply, then every text the
    line sends that number for `seconds`, as the phone would."""
    seen = {message["sid"] for message in client.messages()}
    started = time.monotonic()
    sent = client.text_line(sender, body)
    show(f"{stamp(0)} you → line: {body}")
    if sent.get("line_error") or (sent.get("line_status") or 200) >= 400:
        show(f"the line answered {sent.get('line_status')} {sent.get('line_error') or ''}".strip())
    seen.add(sent["message"]["sid"])
    for reply in sent.get("replies", []):
        seen.add(reply["sid"])
        show(f"{stamp(0)} line → you: {reply['body']}")
    deadline = started + seconds
    while True:
        for message in client.messages():
            if message["sid"] in seen or message["to"] != sender:
                continue
            seen.add(message["sid"])
            show(f"{stamp(time.monotonic() - started)} line → you: {message['body']}")
        if time.monotonic() >= deadline:
            break
        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
