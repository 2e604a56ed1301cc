"""Twilio's IncomingPhoneNumber resource (api v2010): the numbers the account
owns and what each does with a call or a text. The emulator keeps one per
owned number, starts the line's from `EmulatorConfig`, and rings and texts
the line through the URLs stored here — so what `helpline twilio setup`
writes is what a call to the line follows, fallback URL and all. The REST
routes are in rest_numbers.py.

Fields as in the `api.v2010.account.incoming_phone_number` schema of
twilio/twilio-oai (and the official client's IncomingPhoneNumberInstance),
list key `incoming_phone_numbers`. Errors from Twilio's dictionary: 21402
(invalid URL), 21403 (method not GET/POST), 21405/21406 (a fallback URL
without a primary one), 20404.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio_emulator.errors import twilio_error
from twilio_emulator.ids import API_VERSION, new_sid, now, rfc2822

METHODS = ("GET", "POST")
TOLL_FREE_PREFIXES = frozenset(f"+18{n}" for n in ("00", "33", "44", "55", "66", "77", "88"))
# Update parameter -> attribute, for the URL and method pairs.
URL_FIELDS = {
    "VoiceUrl": "voice_url",
    "VoiceFallbackUrl": "voice_fallback_url",
    "StatusCallback": "status_callback",
    "SmsUrl": "sms_url",
    "SmsFallbackUrl": "sms_fallback_url",
}
METHOD_FIELDS = {
    "VoiceMethod": "voice_method",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallbackMethod": "status_callback_method",
    "SmsMethod": "sms_method",
    "SmsFallbackMethod": "sms_fallback_method",
}


@dataclass
class IncomingNumber:
    account_sid: str
    phone_number: str
    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    voice_fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"
    sms_fallback_url: str = ""
    sms_fallback_method: str = "POST"
    friendly_name: str = ""
    voice_caller_id_lookup: bool = False
    sid: str = field(default_factory=lambda: new_sid("PN"))
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        self.friendly_name = self.friendly_name or self.phone_number

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The IncomingPhoneNumber resource as api v2010 returns it."""
        toll_free = self.phone_number[:5] in TOLL_FREE_PREFIXES
        return {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": API_VERSION,
            "beta": False,
            "bundle_sid": None,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "emergency_status": "Inactive",
            "friendly_name": self.friendly_name,
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": self.phone_number,
            "sid": self.sid,
            "sms_application_sid": "",
            "sms_fallback_method": self.sms_fallback_method,
            "sms_fallback_url": self.sms_fallback_url,
            "sms_method": self.sms_method,
            "sms_url": self.sms_url,
            "status": "in-use",
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "subresource_uris": {
                "assigned_add_ons": self.uri()[: -len(".json")] + "/AssignedAddOns.json"
            },
            "trunk_sid": None,
            "type": "toll-free" if toll_free else "local",
            "uri": self.uri(),
            "voice_application_sid": "",
            "voice_caller_id_lookup": self.voice_caller_id_lookup,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_method": self.voice_method,
            "voice_receive_mode": "voice",
            "voice_url": self.voice_url,
        }


class NumberBook:
    """The account's numbers, by SID and by E.164 number."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._by_sid: dict[str, IncomingNumber] = {}

    def add(self, number: IncomingNumber) -> IncomingNumber:
        with self.lock:
            self._by_sid[number.sid] = number
        return number

    def get(self, sid: str) -> IncomingNumber | None:
        with self.lock:
            return self._by_sid.get(sid)

    def find(self, phone_number: str) -> IncomingNumber | None:
        with self.lock:
            return next((n for n in self._by_sid.values() if n.phone_number == phone_number), None)

    def all(self) -> list[IncomingNumber]:
        with self.lock:
            return list(self._by_sid.values())

    def clear(self) -> None:
        with self.lock:
            self._by_sid.clear()


def matches(pattern: str, phone_number: str) -> bool:
    """Twilio's `PhoneNumber` filter: a partial number, `*` for any one digit."""
    wanted = "".join(ch for ch in pattern if ch.isdigit() or ch == "*")
    if not wanted:
        return True
    regex = re.escape(wanted).replace(r"\*", r"\d")
    return re.search(regex, phone_number) is not None


def _valid_url(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) > len("https://")


def apply_update(number: IncomingNumber, form: dict[str, str]) -> None:
    """Check the whole update first, then apply it: a refused update changes nothing."""
    changes: dict[str, str] = {}
    for param, attribute in URL_FIELDS.items():
        if param in form:
            url = form[param].strip()
            if url and not _valid_url(url):
                raise twilio_error(21402)
            changes[attribute] = url
    for param, attribute in METHOD_FIELDS.items():
        if param in form:
            method = form[param].strip().upper()
            if method not in METHODS:
                raise twilio_error(21403)
            changes[attribute] = method
    voice_url = changes.get("voice_url", number.voice_url)
    if changes.get("voice_fallback_url") and not voice_url:
        raise twilio_error(21405)
    sms_url = changes.get("sms_url", number.sms_url)
    if changes.get("sms_fallback_url") and not sms_url:
        raise twilio_error(21406)
    for attribute, value in changes.items():
        setattr(number, attribute, value)
    if "FriendlyName" in form:
        number.friendly_name = form["FriendlyName"][:64] or number.phone_number
    if "VoiceCallerIdLookup" in form:
        number.voice_caller_id_lookup = form["VoiceCallerIdLookup"].strip().lower() == "true"
    number.date_updated = now()
