"""The texts a virtual phone receives, as a person at a console sees them:
`helpline simulate call` shows each as it comes (📱), `helpline simulate sms`
shows the line's replies to a text for a while."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any, Protocol

Show = Callable[[str], None]


class InboxClient(Protocol):
    """What an inbox needs of the emulator's control API (console.ControlClient):
    passed in, as the console that shows the texts imports this module."""

    def messages(self) -> list[dict[str, Any]]: ...

    def text_line(self, sender: str, body: str) -> dict[str, Any]: ...


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"[{whole // 60:02d}:{whole % 60:02d}]"


class Inbox:
    """The texts a phone receives, each shown once: what the line sent it
    from the moment the inbox was opened (older texts are history)."""

    def __init__(self, client: InboxClient, number: str, every: float = 1.0) -> None:
        self.client = client
        self.number = number
        self.every = every  # seconds between looks
        self._looked = 0.0
        self.seen: set[str] = {message["sid"] for message in client.messages()}

    def new(self, *, now: bool = False) -> list[dict[str, Any]]:
        """Texts to this phone not shown yet, oldest first (none when looked
        at less than `every` seconds ago, unless `now`)."""
        if not now and time.monotonic() - self._looked < self.every:
            return []
        self._looked = time.monotonic()
        found = []
        for message in self.client.messages():
            if message["sid"] in self.seen or message.get("to") != self.number:
                continue
            self.seen.add(message["sid"])
            if str(message.get("direction", "")).startswith("outbound"):
                found.append(message)
        return found


def describe_text(message: dict[str, Any]) -> str:
    if message.get("status") in ("failed", "undelivered"):
        code = message.get("error_code") or ""
        return f"📱 a text to you failed ({code} {message.get('error_message') or ''}): " + str(
            message.get("body", "")
        )
    return f"📱 text from {message.get('from', 'the line')}: {message.get('body', '')}"


def show_new(inbox: Inbox, show: Show, started: float) -> int:
    """Show each text the line sent since the last look (or why it failed),
    stamped from STARTED; how many."""
    found = inbox.new(now=True)
    for message in found:
        at = stamp(time.monotonic() - started)
        if message.get("status") in ("failed", "undelivered"):
            show(f"{at} {describe_text(message)}")
        else:
            show(f"{at} line → you: {message['body']}")
    return len(found)


def watch_texts(client: InboxClient, sender: str, body: str, seconds: float, show: Show) -> int:
    """Text the line from `sender`; show the inline reply, then every text the
    line sends that number for `seconds`, as the phone would. How many came."""
    inbox = Inbox(client, sender)
    started = time.monotonic()
    sent = client.text_line(sender, body)
    show(f"{stamp(0)} you → line: {body}")
    if sent.get("line_error") or (sent.get("line_status") or 200) >= 400:
        show(f"the line answered {sent.get('line_status')} {sent.get('line_error') or ''}".strip())
    inbox.seen.add(sent["message"]["sid"])
    received = 0
    for reply in sent.get("replies", []):
        inbox.seen.add(reply["sid"])
        received += 1
        show(f"{stamp(0)} line → you: {reply['body']}")
    deadline = started + seconds
    while True:
        received += show_new(inbox, show, started)
        if time.monotonic() >= deadline:
            return received
        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


def chat(
    client: InboxClient,
    sender: str,
    typed: queue.Queue[str | None],
    show: Show,
    *,
    linger: float = 2.0,
) -> int:
    """Hold a conversation as the texter: each line in TYPED is a text to the
    line (None: the typist is done), and every text the line sends this phone
    shows as it comes — a counselor's words from the desk included. After the
    last line it listens LINGER seconds more. How many texts came."""
    inbox = Inbox(client, sender)
    started = time.monotonic()
    received = 0
    ending_at: float | None = None
    while ending_at is None or time.monotonic() < ending_at:
        try:
            line = typed.get(timeout=0.25)
        except queue.Empty:
            line = ""
        if line is None:
            ending_at = time.monotonic() + linger
        elif line.strip():
            sent = client.text_line(sender, line)
            show(f"{stamp(time.monotonic() - started)} you → line: {line}")
            inbox.seen.add(sent["message"]["sid"])
            for reply in sent.get("replies", []):
                inbox.seen.add(reply["sid"])
                received += 1
                show(f"{stamp(time.monotonic() - started)} line → you: {reply['body']}")
        received += show_new(inbox, show, started)
    return received
