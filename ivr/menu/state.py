"""Per-call state in Redis: the caller's language, where they are in the menu,
and how many tries they have used there. It expires on its own, so a call that
ends without a status callback leaves nothing behind for long."""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis

CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
# How long a call's state and callback consent outlive the call: Twilio may
# request a message's Record action just after the call's status callback.
CONSENT_AFTER_CALL_SECONDS = 600


@dataclass
class CallState:
    language: str
    node: str
    tries: int = 0


@dataclass(frozen=True)
class CallbackConsent:
    """What a caller said before leaving a message: how they may be called
    back. `how`: "caller_id" (the number they call from), "number" (one they
    gave and confirmed), "pending" (given, not yet confirmed), "none"."""

    how: str
    number: str = ""

    @property
    def callable(self) -> bool:
        return self.how in ("caller_id", "number") and bool(self.number)


class CallStates:
    """One Redis string per call, written with its expiry in a single SET:
    the state is tiny, and one command keeps the webhook's hot path short."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl = ttl_seconds

    @staticmethod
    def _key(call_sid: str) -> str:
        return f"call:{call_sid}"

    def load(self, call_sid: str) -> CallState | None:
        raw = self._redis.get(self._key(call_sid))
        if not isinstance(raw, bytes | str):
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        language, _, rest = text.partition("\t")
        node, _, tries = rest.partition("\t")
        if not language or not node:
            return None
        return CallState(language, node, int(tries) if tries.isdigit() else 0)

    def save(self, call_sid: str, state: CallState) -> None:
        # Node ids and language codes come from checked content: no tabs in them.
        value = f"{state.language}\t{state.node}\t{state.tries}"
        self._redis.set(self._key(call_sid), value, ex=self._ttl)

    def forget(self, call_sid: str) -> None:
        """The call ended. Its state and consent (a number in clear) are kept
        only a few minutes more, not the state's hours: long enough for a
        Record action Twilio requests after the status callback (a hang-up
        mid-message), which needs the caller's language and consent."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.expire(self._key(call_sid), CONSENT_AFTER_CALL_SECONDS)
        pipe.expire(f"{self._key(call_sid)}:callback", CONSENT_AFTER_CALL_SECONDS)
        pipe.execute()

    # What a caller said before leaving a message, beside the call's state and
    # expiring with it (or CONSENT_AFTER_CALL_SECONDS after the call ends); the
    # message's webhook reads it to make (or not) the callback.

    def save_consent(self, call_sid: str, consent: CallbackConsent) -> None:
        value = f"{consent.how}\t{consent.number}"
        self._redis.set(f"{self._key(call_sid)}:callback", value, ex=self._ttl)

    def consent_of(self, call_sid: str) -> CallbackConsent | None:
        raw = self._redis.get(f"{self._key(call_sid)}:callback")
        if not isinstance(raw, bytes | str):
            return None
        how, _, number = (raw.decode() if isinstance(raw, bytes) else raw).partition("\t")
        return CallbackConsent(how, number)
