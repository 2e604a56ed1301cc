"""Phone numbers never appear in clear outside the record that needs them:
logs and job payloads carry a keyed hash (stable, so one caller's events can be
followed) or a mask (last four digits, for people)."""

from __future__ import annotations

import hashlib
import hmac


def number_ref(secret_key: str, number: str) -> str:
    """A stable, non-reversible reference to a phone number."""
    digest = hmac.new(secret_key.encode(), number.encode(), hashlib.sha256).hexdigest()
    return "n_" + digest[:16]


def mask(number: str) -> str:
    digits = [ch for ch in number if ch.isdigit()]
    return "…" + "".join(digits[-4:]) if len(digits) >= 4 else "…"


def sid_ref(sid: str) -> str:
    """How logs name a call or a text: a short hash of its Twilio SID (a CallSid
    or MessageSid), the same in every line about it, so its events can be
    followed without the SID itself (which opens Twilio's record of it)."""
    return hashlib.sha256(sid.encode()).hexdigest()[:10]
