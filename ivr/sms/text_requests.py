"""'Text me this' from the phone menu: the chosen text, through the outbox, to
the caller's own number — once per call and text, never to a number that
opted out, and not to one already over its hourly cap of texts (the caller is
told so on the call, and offered a counselor, rather than sent nothing)."""

from __future__ import annotations

from typing import Literal

from ivr.callers.caller_id import may_call_back
from ivr.content.model import Content
from ivr.content.render import fill
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import Outbox

Requested = Literal["queued", "unavailable", "limited"]


class TextRequests:
    def __init__(
        self, content: Content, outbox: Outbox, opt_outs: OptOuts, per_hour: int | None = None
    ) -> None:
        self._content = content
        self._outbox = outbox
        self._opt_outs = opt_outs
        self._per_hour = per_hour  # HELPLINE_SMS_PER_RECIPIENT_PER_HOUR; None: not checked

    def request(self, call_sid: str, caller: str, text_id: str, language: str) -> Requested:
        """Queue the text: "queued"; "unavailable" when the caller's number cannot
        (or asked not to) get it; "limited" when it is over its hourly cap."""
        # A withheld caller's placeholder can be a stranger's number: never texted.
        if not may_call_back(caller) or self._opt_outs.is_opted_out(caller):
            return "unavailable"
        if self._per_hour is not None and self._outbox.replies_this_hour(caller) >= self._per_hour:
            return "limited"
        bodies = [
            fill(self._content, part.text(language), language, "sms")
            for part in self._content.texts[text_id]
        ]
        self._outbox.send(
            caller, bodies, cause=f"call:{call_sid}:{text_id}", kind="text-me", language=language
        )
        return "queued"
