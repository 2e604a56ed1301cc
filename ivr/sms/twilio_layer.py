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

from ivr.content.check import TWILIO_KEYWORDS

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
