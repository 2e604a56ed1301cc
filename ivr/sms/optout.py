"""Who asked to hear nothing more. Kept by a keyed hash of the number (no
number in clear) and without expiry: an opt-out holds until that person opts
back in, whatever path would send to them."""

from __future__ import annotations

import time

import redis

from ivr.platform.privacy import number_ref

KEY_PREFIX = "optout:"


class OptOuts:
    def __init__(self, client: redis.Redis, secret_key: str) -> None:
        self._redis = client
        self._secret = secret_key

    def key_of(self, number: str) -> str:
        """The key whose existence means NUMBER opted out (to read in a pipeline)."""
        return KEY_PREFIX + number_ref(self._secret, number)

    def is_opted_out(self, number: str) -> bool:
        return bool(self._redis.exists(self.key_of(number)))

    def opt_out(self, number: str, reason: str) -> bool:
        """True when this changed anything (the first STOP, not a repeat)."""
        return bool(self._redis.set(self.key_of(number), f"{int(time.time())} {reason}", nx=True))

    def opt_in(self, number: str) -> bool:
        return bool(self._redis.delete(self.key_of(number)))
