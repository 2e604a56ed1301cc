"""Point the line's Twilio number at the service: find HELPLINE_NUMBER among
the account's IncomingPhoneNumbers and set its Voice URL, SMS URL, status
callback and fallback URLs, the front doors with connection overrides
(ivr/golive/overrides.py) so a dead service fails over in seconds.

Through the official client and the line's one transport, so
HELPLINE_TWILIO_API_URL (the emulator) is honoured like everywhere else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from ivr.golive.fallback_export import (
    SMS_FILE,
    VOICE_AFTER_FILE,
    VOICE_FILE,
    VOICE_GOODBYE_FILE,
)
from ivr.golive.overrides import with_overrides
from ivr.platform.config import Settings
from ivr.platform.privacy import mask

FALLBACK_CHECK_TIMEOUT_SECONDS = 10.0
# Every exported file Twilio fetches: the two fallback URLs, and the voice
# documents voice.xml leads to (its <Dial> and <Record> actions).
FETCHED_FILES = (VOICE_FILE, VOICE_AFTER_FILE, VOICE_GOODBYE_FILE, SMS_FILE)
# The Content-Types Twilio takes as TwiML. Anything else, or none, is its
# error 12300 ("Invalid Content-Type", https://www.twilio.com/docs/errors/12300;
# its help center asks for "text/xml (or application/xml)"), and a caller in
# an outage would get "an application error has occurred" instead of the
# crisis numbers. An object store guesses application/octet-stream for an
# upload without a type, which is how this went wrong once (issue 18).
TWIML_CONTENT_TYPES = frozenset({"text/xml", "application/xml"})

# (the client's keyword, Twilio's parameter), in the order shown to operators.
SETTINGS = (
    ("voice_url", "VoiceUrl"),
    ("voice_method", "VoiceMethod"),
    ("voice_fallback_url", "VoiceFallbackUrl"),
    ("voice_fallback_method", "VoiceFallbackMethod"),
    ("status_callback", "StatusCallback"),
    ("status_callback_method", "StatusCallbackMethod"),
    ("sms_url", "SmsUrl"),
    ("sms_method", "SmsMethod"),
    ("sms_fallback_url", "SmsFallbackUrl"),
    ("sms_fallback_method", "SmsFallbackMethod"),
)
URL_SETTINGS = frozenset(
    {"voice_url", "voice_fallback_url", "status_callback", "sms_url", "sms_fallback_url"}
)


class SetupError(Exception):
    """Something an operator must fix first; the message says what."""


@dataclass(frozen=True)
class Change:
    name: str  # Twilio's parameter name
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Plan:
    number_sid: str
    number: str  # masked, for showing
    wanted: dict[str, str]  # client keyword -> value
    changes: tuple[Change, ...]

    @property
    def pending(self) -> list[Change]:
        return [change for change in self.changes if change.changed]


def fallback_urls(base: str) -> tuple[str, str]:
    """The exported voice and SMS documents under `base` (a trailing slash is implied)."""
    base = base if base.endswith("/") else base + "/"
    return urljoin(base, VOICE_FILE), urljoin(base, SMS_FILE)


def wanted_settings(settings: Settings, fallback_base: str | None) -> dict[str, str]:
    """What the number should say, by the client's keyword. Without a fallback
    base the fallback URLs are left as they are."""
    wanted = {
        "voice_url": with_overrides(settings.public("/voice/incoming")),
        "voice_method": "POST",
        "status_callback": settings.public("/voice/status"),
        "status_callback_method": "POST",
        "sms_url": with_overrides(settings.public("/sms/incoming")),
        "sms_method": "POST",
    }
    if fallback_base is not None:
        voice, sms = fallback_urls(fallback_base)
        # GET: static hosts commonly refuse POST (405), and a fallback of static
        # files needs nothing of the request.
        wanted.update(
            voice_fallback_url=voice,
            voice_fallback_method="GET",
            sms_fallback_url=sms,
            sms_fallback_method="GET",
        )
    return wanted


def url_problems(
    settings: Settings, wanted: dict[str, str], fallback_base: str | None
) -> list[str]:
    problems = []
    if fallback_base is not None:
        parts = urlsplit(fallback_base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"--fallback-base must be an http(s) URL, not {fallback_base!r}")
        if parts.query or parts.fragment:
            problems.append("--fallback-base must be a plain base URL (no ?query, no #fragment)")
    if settings.twilio_api_url is None:
        # The real Twilio, whatever HELPLINE_ENV says (a shell without the
        # production environment falls back to development's defaults): a live
        # number pointed at http, or at this machine, sends every caller to the
        # fallback or to nothing.
        for name in sorted(URL_SETTINGS & wanted.keys()):
            problem = _unreachable_from_twilio(wanted[name])
            if problem:
                problems.append(f"{_param(name)} would be {wanted[name]!r}: {problem}")
    if settings.is_production:
        if fallback_base is None:
            problems.append(
                "give --fallback-base: in production the number needs a fallback that does "
                "not depend on this service (export it with `helpline fallback export DIR`)"
            )
        for name in sorted(URL_SETTINGS & wanted.keys()):
            if not wanted[name].startswith("https://"):
                problems.append(f"{_param(name)} would be {wanted[name]!r}: production needs https")
    return problems


def _unreachable_from_twilio(url: str) -> str | None:
    """Why Twilio could not (or should not) call `url`, if so."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "Twilio's real number needs https (is HELPLINE_PUBLIC_URL set?)"
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "that host is not reachable from Twilio"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: Twilio resolves it
    if not address.is_global:
        return "that address is not reachable from Twilio"
    return None


def _param(name: str) -> str:
    return dict(SETTINGS)[name]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def find_number(client: Client, line_number: str) -> Any:
    """The account's IncomingPhoneNumber for the line (the list filter also
    matches partial numbers, so the match is checked exactly)."""
    found = [
        number
        for number in client.incoming_phone_numbers.list(phone_number=line_number, limit=100)
        if number.phone_number == line_number
    ]
    if not found:
        raise SetupError(
            f"HELPLINE_NUMBER ({mask(line_number)}) is not a number of this Twilio account "
            "(IncomingPhoneNumbers): check the number and TWILIO_ACCOUNT_SID"
        )
    return found[0]


def plan_for(number: Any, wanted: dict[str, str]) -> Plan:
    if number.trunk_sid or number.voice_application_sid:
        raise SetupError(
            "the number's calls go to a SIP trunk or a TwiML App, and Twilio ignores its "
            "Voice URL then: detach it in the Twilio console first"
        )
    if number.sms_application_sid:
        raise SetupError(
            "the number's texts go to a TwiML App, and Twilio ignores its SMS URL then: "
            "detach it in the Twilio console first"
        )
    changes = tuple(
        Change(param, _text(getattr(number, name)), wanted.get(name, _text(getattr(number, name))))
        for name, param in SETTINGS
    )
    return Plan(number.sid, mask(number.phone_number), wanted, changes)


def check_fallback(base: str) -> list[str]:
    """Fetch the exported documents as Twilio would (GET) and check they are
    TwiML, served as XML; each problem as a sentence."""
    from xml.etree import ElementTree

    base = base if base.endswith("/") else base + "/"
    problems = []
    for url in (urljoin(base, name) for name in FETCHED_FILES):
        try:
            response = requests.get(url, timeout=FALLBACK_CHECK_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            problems.append(f"{url}: cannot fetch it ({type(error).__name__})")
            continue
        if response.status_code != 200:
            problems.append(f"{url}: HTTP {response.status_code}")
            continue
        content_type = response.headers.get("Content-Type", "")
        if content_type.split(";", 1)[0].strip().lower() not in TWIML_CONTENT_TYPES:
            shown = repr(content_type) if content_type else "none"
            problems.append(
                f"{url}: served with Content-Type {shown}; Twilio refuses TwiML that is "
                "not text/xml or application/xml (error 12300): set the file's "
                "Content-Type to text/xml on the host"
            )
            continue
        try:
            root = ElementTree.fromstring(response.content)  # noqa: S314 - no entity expansion
        except ElementTree.ParseError:
            root = None
        if root is None or root.tag != "Response":
            problems.append(f"{url}: not TwiML (no <Response> document)")
    return problems


def apply_plan(client: Client, plan: Plan) -> list[Change]:
    """Update the number, then read it back: what Twilio now holds that
    differs from what was asked (empty when all is well)."""
    client.incoming_phone_numbers(plan.number_sid).update(**plan.wanted)
    now = client.incoming_phone_numbers(plan.number_sid).fetch()
    return [
        Change(param, _text(getattr(now, name)), plan.wanted[name])
        for name, param in SETTINGS
        if name in plan.wanted and _text(getattr(now, name)) != plan.wanted[name]
    ]


def describe(plan: Plan) -> list[str]:
    width = max(len(change.name) for change in plan.changes)
    lines = [f"Twilio number {plan.number} ({plan.number_sid}):"]
    for change in plan.changes:
        if change.changed:
            before = change.before or "(none)"
            lines.append(f"  {change.name:<{width}}  {before}\n  {'':<{width}}  → {change.after}")
        else:
            lines.append(f"  {change.name:<{width}}  {change.after or '(none)'}  (unchanged)")
    return lines


def rest_error(error: Exception) -> SetupError:
    """A failed REST call as one sentence for an operator."""
    credentials = " (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"
    if isinstance(error, TwilioRestException):
        hint = credentials if error.status == 401 else ""
        return SetupError(
            f"Twilio refused: error {error.code}, HTTP {error.status}: {error.msg}{hint}"
        )
    if isinstance(error, TwilioException):  # a list page the client could not read
        text = " ".join(str(error).split())
        return SetupError(f"Twilio refused: {text}" + (credentials if "401" in text else ""))
    return SetupError(f"cannot reach Twilio: {type(error).__name__}")
