"""What Twilio's own layer answers before the line sees a text, so the line
does not answer it a second time.

On a long code or toll-free number Twilio (and, on toll-free, the carrier)
answers its own keywords itself — HELP/INFO with its help text, START/YES/
UNSTOP with an opt-in confirmation, STOP and its synonyms with an opt-out one —
when the keyword is the whole message, any case (docs/emulator.md, "Opt-out
at Twilio's layer"). With Advanced Opt-Out on a Messaging Service it answers
the keywords configured there instead, and says so: the webhook carries
`OptOutType` (STOP, START or HELP) for exactly the texts it answered. Without
Advanced Opt-Out no parameter says it, so the line must know which set is in
force: HELPLINE_ADVANCED_OPT_OUT (docs/operations.md, "The first real texts")."""

from __future__ import annotations

import time

import redis

from ivr.content.check import TWILIO_KEYWORDS
from ivr.platform.redis_store import text

# Twilio's default keywords: what it answers when no Advanced Opt-Out is set.
TWILIO_DEFAULT_WORDS = frozenset(word for words in TWILIO_KEYWORDS.values() for word in words)
OPT_OUT_TYPES = frozenset({"STOP", "START", "HELP"})


def twilio_answered(body: str, opt_out_type: str, *, advanced_opt_out: bool) -> bool:
    """Has Twilio's layer already replied to this text (BODY, as received,
    with the webhook's OptOutType)?

    OptOutType says so whenever it is there. Without it: under Advanced
    Opt-Out, Twilio answered nothing (the parameter would be there); under
    Twilio's default handling, it answered exactly its default words as the
    whole message — compared as Twilio compares them, trimmed and in any
    case, not as the line reads a text ("Help!" is the line's to answer)."""
    if opt_out_type.strip().upper() in OPT_OUT_TYPES:
        return True
    if advanced_opt_out:
        return False
    return body.strip().upper() in TWILIO_DEFAULT_WORDS


# What real texts said of HELPLINE_ADVANCED_OPT_OUT: field "marked" (Twilio
# marked a keyword while the setting is false) or "unmarked" (a keyword came
# unmarked while it is true), each the time last seen. Kept a month at most.
SETTING_KEY = "sms:advanced_opt_out:mismatch"
SETTING_KEPT_SECONDS = 30 * 86400


class OptOutSetting:
    """Does HELPLINE_ADVANCED_OPT_OUT match the number as Twilio runs it?
    Only real texts tell: under Advanced Opt-Out every STOP, START and HELP
    comes marked with OptOutType, and without it none does. A wrong setting
    never silences anyone, but gives a texter two replies (HELP when it is
    false, START when it is true), so the Now page says so."""

    def __init__(self, client: redis.Redis, advanced_opt_out: bool) -> None:
        self._redis = client
        self._advanced = advanced_opt_out

    def observe(self, body: str, opt_out_type: str) -> None:
        """One inbound text. Evidence: a marked text, or STOP or START alone
        unmarked (Advanced Opt-Out always marks those two; HELP and the other
        words an operator may take off its lists)."""
        marked = opt_out_type.strip().upper() in OPT_OUT_TYPES
        if not marked and body.strip().upper() not in ("STOP", "START"):
            return
        if marked == self._advanced:
            self._redis.delete(SETTING_KEY)  # this text agrees with the setting
            return
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(SETTING_KEY, "marked" if marked else "unmarked", int(time.time()))
        pipe.expire(SETTING_KEY, SETTING_KEPT_SECONDS)
        pipe.execute()

    @staticmethod
    def mismatch(client: redis.Redis) -> str | None:
        """What the last keywords said against the setting, for the Now page."""
        seen = {text(k): text(v) for k, v in client.hgetall(SETTING_KEY).items()}
        if "marked" in seen:
            return (
                "Twilio marks STOP, START and HELP with OptOutType (Advanced Opt-Out is on), "
                "but HELPLINE_ADVANCED_OPT_OUT is false: a HELP gets two replies. "
                "Set it to true (docs/operations.md, 'The first real texts')."
            )
        if "unmarked" in seen:
            return (
                "A STOP, START or HELP came without OptOutType while "
                "HELPLINE_ADVANCED_OPT_OUT is true: Advanced Opt-Out is not in force on "
                "this number, and a START gets two replies. Fix the Messaging Service or "
                "the setting (docs/operations.md, 'The first real texts')."
            )
        return None
