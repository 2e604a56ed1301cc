"""A callback number as a caller gives it: keyed or said, read back digit by
digit. What may be called is decided by ivr.callers.caller_id."""

from __future__ import annotations

import re

import phonenumbers

from ivr.callers.caller_id import may_call_back
from ivr.platform.config import PHONE_REGION, to_e164

# Fewer digits than a US number without its area code is not a number anyone
# meant (Twilio's speech model writes "5" for "five", "one two" for a key).
FEWEST_DIGITS = 7
# What a number given by a caller may be: a phone in the line's own region. Not
# premium rate (900), toll-free, shared cost, satellite or abroad: the line
# dials no number taken from input that could cost money (toll fraud,
# docs/reliability.md).
CALLABLE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
# Words that turn an answer around ("not this number", "that isn't right"):
# spoken beside a phrase that would mean "call", the answer is asked again.
NEGATIONS = frozenset(
    {"no", "not", "never", "nope", "dont", "don't", "isnt", "isn't", "wrong", "incorrect"}
    | {"nunca", "ni", "tampoco", "incorrecto", "equivocado", "mal"}
)


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
    if number is None or not may_call_back(number):
        return None
    parsed = phonenumbers.parse(number, None)
    in_region = phonenumbers.region_code_for_number(parsed) == PHONE_REGION
    return number if in_region and phonenumbers.number_type(parsed) in CALLABLE_TYPES else None


def negated(speech: str) -> bool:
    """Whether words turn the answer around: "do not call this number" holds
    "this number", and must not be read as yes."""
    words = re.findall(r"[\w']+", speech.lower())
    return any(word in NEGATIONS or word.endswith("n't") for word in words)


def spoken_number(number: str) -> str:
    """A number read back one digit at a time, in its national groups
    ("2 0 2, 5 5 5, 0 1 2 3"): said as a whole, a text-to-speech voice reads
    2025550123 as two billion…"""
    national = phonenumbers.format_number(
        phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    groups = [group for group in re.split(r"\D+", national) if group]
    return ", ".join(" ".join(group) for group in groups)
