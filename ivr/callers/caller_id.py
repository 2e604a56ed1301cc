"""Whether a caller's number is one the line may call or text back.

Twilio gives a withheld or unknown caller ID as a placeholder: the word
itself ("Anonymous", "RESTRICTED") since its 2022-11-16 change for <Dial>
legs, and before it — and still on some routes — the word spelled on a
keypad: +266696687 (ANONYMOUS), +7378742833 (RESTRICTED), +86282452253
(UNAVAILABLE), sometimes with a country code in front, +17378742833, which
looks like a valid US number (docs/emulator.md cites the sources). A voicemail
from such a caller must never become a call to whoever owns that number.
"""

from __future__ import annotations

from ivr.platform.config import is_e164

WITHHELD_WORDS = (
    "ANONYMOUS",
    "RESTRICTED",
    "UNAVAILABLE",
    "UNKNOWN",
    "PRIVATE",
    "BLOCKED",
    "WITHHELD",
    "NOTAVAILABLE",
)
_KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}
WITHHELD_DIGITS = frozenset("".join(_KEYPAD[c] for c in word) for word in WITHHELD_WORDS)
COUNTRY_CODE_DIGITS = 3  # the most a country code in front of a spelled word adds


def is_withheld(number: str) -> bool:
    """A placeholder for a withheld or unknown caller, in any of its forms."""
    plain = number.strip().lstrip("+")
    if not plain.isdigit():
        return True  # "Anonymous", "RESTRICTED", "" …: not a number at all
    return any(
        plain.endswith(spelled) and len(plain) - len(spelled) <= COUNTRY_CODE_DIGITS
        for spelled in WITHHELD_DIGITS
    )


def may_call_back(number: str) -> bool:
    """A real number in E.164 that is not a withheld caller's placeholder."""
    return is_e164(number) and not is_withheld(number)
