"""Test helper: post to the line as Twilio does, with a real signature."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from ivr.content.model import Content
from ivr.content.render import fill

CALLER = "+12025550123"
LINE = "+18885550100"


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


@dataclass
class TwilioSigner:
    client: FlaskClient
    public_url: str
    auth_token: str

    def sign(self, url: str, params: MultiDict[str, str]) -> str:
        signature: str = RequestValidator(self.auth_token).compute_signature(url, params)
        return signature

    def post(
        self,
        path_or_url: str,
        params: dict[str, str] | MultiDict[str, str],
        *,
        signature: str | None = None,
    ) -> TestResponse:
        url = path_or_url if path_or_url.startswith("http") else self.public_url + path_or_url
        path = url[len(self.public_url) :]
        form = params if isinstance(params, MultiDict) else MultiDict(params)
        header = self.sign(url, form) if signature is None else signature
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": header})


@dataclass
class CallFixture:
    """One caller's call: posts Twilio's voice webhooks and parses the TwiML."""

    twilio: TwilioSigner
    caller: str = CALLER
    sid: str = field(default_factory=new_call_sid)

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": LINE,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    def post(self, url: str, **extra: str) -> ET.Element:
        response = self.twilio.post(url, self.params(**extra))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        return ET.fromstring(response.get_data())  # noqa: S314 - our own response

    def start(self) -> ET.Element:
        return self.post("/voice/incoming", CallStatus="ringing")

    def press(self, twiml: ET.Element, digits: str) -> ET.Element:
        return self.post(gather_action(twiml), Digits=digits)

    def say(self, twiml: ET.Element, words: str) -> ET.Element:
        return self.post(gather_action(twiml), SpeechResult=words, Confidence="0.9")

    def silence(self, twiml: ET.Element) -> ET.Element:
        return self.post(redirect_url(twiml))


def gather_action(twiml: ET.Element) -> str:
    gather = twiml.find("Gather")
    assert gather is not None, ET.tostring(twiml)
    return gather.attrib["action"]


def redirect_url(twiml: ET.Element) -> str:
    redirect = twiml.find("Redirect")
    assert redirect is not None, ET.tostring(twiml)
    return (redirect.text or "").strip()


def spoken(twiml: ET.Element) -> str:
    """Everything the caller hears, in order."""
    return " ".join((say.text or "").strip() for say in twiml.iter("Say"))


def said(content: Content, prompt: str, language: str = "en") -> str:
    """What the caller hears of one of the line's own prompts."""
    return fill(content, content.prompts[prompt].text(language), language, "voice")


def node_said(content: Content, node_id: str, language: str = "en") -> str:
    """What the caller hears of a node's `say`."""
    prompt = content.voice.nodes[node_id].say  # type: ignore[attr-defined]
    return fill(content, prompt.text(language), language, "voice")
