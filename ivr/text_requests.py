"""'Text me this' from the phone menu: the chosen text, through the outbox, to
the caller's own number — once per call and text, and never to a number that
opted out."""

from __future__ import annotations

from ivr.config import is_e164
from ivr.content.model import Content
from ivr.content.render import fill
from ivr.outbox import Outbox
from ivr.sms.optout import OptOuts


class TextRequests:
    def __init__(self, content: Content, outbox: Outbox, opt_outs: OptOuts) -> None:
        self._content = content
        self._outbox = outbox
        self._opt_outs = opt_outs

    def request(self, call_sid: str, caller: str, text_id: str, language: str) -> bool:
        """Queue the text; False when the caller's number cannot (or asked not to) get it."""
        if not is_e164(caller) or self._opt_outs.is_opted_out(caller):
            return False
        bodies = [
            fill(self._content, part.text(language), language, "sms")
            for part in self._content.texts[text_id]
        ]
        self._outbox.send(caller, bodies, cause=f"call:{call_sid}:{text_id}", kind="text-me")
        return True
