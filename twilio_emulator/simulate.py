"""Be a caller in the terminal: post signed webhooks to a running line the way
Twilio does, print what the caller would hear, and read keys or words.

The TwiML is read, not built, here: Twilio's part of the conversation is
played by following `<Gather>`, `<Redirect>`, `<Dial>` and `<Record>`.
"""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from twilio.request_validator import RequestValidator

Ask = Callable[[str], str]
Show = Callable[[str], None]
HTTP_TIMEOUT = 15  # Twilio's own budget for a webhook


@dataclass
class Webhooks:
    """Posts signed requests: signed for the public URL, sent to the local one."""

    service_url: str
    public_url: str
    auth_token: str
    session: requests.Session = field(default_factory=requests.Session)

    def local(self, url: str) -> str:
        if url.startswith(self.public_url):
            return self.service_url + url[len(self.public_url) :]
        return url

    def post(self, url: str, params: dict[str, str]) -> requests.Response:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return self.session.post(
            self.local(url),
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=HTTP_TIMEOUT,
        )


@dataclass
class SimulatedCall:
    hooks: Webhooks
    caller: str
    line_number: str
    account_sid: str
    ask: Ask
    show: Show
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    started: float = field(default_factory=time.monotonic)
    max_requests: int = 500

    def _stamp(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"[{elapsed // 60:02d}:{elapsed % 60:02d}]"

    def _params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params = {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.line_number,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra or {})
        return params

    def run(self, incoming_url: str) -> str:
        """Play the call to its end; return how it ended."""
        # Twilio's first request of a call says it is still ringing.
        first = self._params({"CallStatus": "ringing"})
        next_request: tuple[str, dict[str, str]] | None = (incoming_url, first)
        for _ in range(self.max_requests):
            if next_request is None:
                break
            url, params = next_request
            response = self.hooks.post(url, params)
            if response.status_code != 200:
                self.show(f"{self._stamp()} the line answered HTTP {response.status_code}")
                return "error"
            next_request = self._play(ET.fromstring(response.content))  # noqa: S314 - our own service
            if next_request == ("", {}):
                return "hung up"
        self.show(f"{self._stamp()} call ended")
        return "ended"

    def _say(self, element: ET.Element) -> None:
        language = element.get("language", "")
        self.show(f"{self._stamp()} 🔊 ({language}) {(element.text or '').strip()}")

    def _play(self, document: ET.Element) -> tuple[str, dict[str, str]] | None:
        for verb in document:
            tag = verb.tag
            if tag == "Say":
                self._say(verb)
            elif tag == "Pause":
                self.show(f"{self._stamp()} … pause {verb.get('length', '1')} s")
            elif tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self._say(inner)
                reply = self.ask("keys or words (Enter: stay silent, q: hang up) > ").strip()
                if reply.lower() == "q":
                    return "", {}
                if reply:
                    key = (
                        "Digits" if all(ch in "0123456789*#" for ch in reply) else ("SpeechResult")
                    )
                    extra = {key: reply[:1] if key == "Digits" else reply}
                    if key == "SpeechResult":
                        extra["Confidence"] = "0.9"
                    return verb.get("action", ""), self._params(extra)
            elif tag == "Redirect":
                return (verb.text or "").strip(), self._params()
            elif tag == "Dial":
                numbers = ", ".join((n.text or "").strip() for n in verb)
                self.show(f"{self._stamp()} ☎  connecting you to {numbers}")
                answered = self.ask("does someone answer? [y/N] > ").strip().lower() == "y"
                if answered:
                    self.show(f"{self._stamp()} (you talk; then the other side hangs up)")
                status = "completed" if answered else "no-answer"
                if verb.get("action"):
                    return verb.get("action", ""), self._params({"DialCallStatus": status})
            elif tag == "Record":
                self.show(f"{self._stamp()} 🔴 beep — recording")
                message = self.ask("speak your message (Enter: say nothing) > ").strip()
                if message and verb.get("action"):
                    sid = "RE" + secrets.token_hex(16)
                    return verb.get("action", ""), self._params(
                        {
                            "RecordingSid": sid,
                            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Recordings/{sid}",
                            "RecordingDuration": str(max(1, len(message.split()) // 2)),
                        }
                    )
            elif tag in ("Hangup", "Reject"):
                self.show(f"{self._stamp()} the line hung up")
                return "", {}
        return None
