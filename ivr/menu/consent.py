"""A callback number as a caller gives it: keyed or said, read back digit by
digit. What may be called is decided by ivr.callers.caller_id."""

from __future__ import annotations

import re

import phonenumbers

from ivr.callers.caller_id import may_call_back
from ivr.platform.config import to_e164

# Fewer digits than a US number without its area code is not a number anyone
# meant (Twilio's speech model writes "5" for "five", "one two" for a key).
FEWEST_DIGITS = 7


def heard_number(digits: str, speech: str) -> str | None:
    """The number keyed (DIGITS, Twilio's <Gather> up to #) or said (SPEECH:
    "two oh two, five five five…" comes as digits from Twilio's speech model),
    in E.164, when it is one the line may call."""
    raw = digits.strip() or speech
    plus = "+" if raw.lstrip().startswith("+") else ""
    found = "".join(ch for ch in raw if ch.isdigit())
    if len(found) < FEWEST_DIGITS:
        return None
    number = to_e164(plus + found)
    return number if number is not None and may_call_back(number) else None


def spoken_number(number: str) -> str:
    """A number read back one digit at a time, in its national groups
    ("2 0 2, 5 5 5, 0 1 2 3"): said as a whole, a text-to-speech voice reads
    2025550123 as two billion…"""
    national = phonenumbers.format_number(
        phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    groups = [group for group in re.split(r"\D+", national) if group]
    return ", ".join(" ".join(group) for group in groups)
