"""Where the line's configuration lives in Redis, and finding it there a few
keys at a time.

The configuration keys are found with SCAN from Python, call by call (see
`find_keys`), never by a SCAN loop inside a script: a script holds Redis for
as long as it runs, and a loop over the whole keyspace (every call, text and
job key too) would hold it for seconds on a busy line, while each webhook
waits 0.5 s at most. Only the values, a handful of keys per operator, are then
read or written atomically."""

from __future__ import annotations

from typing import Any

import redis

from ivr.callers.blocklist import KEY_PREFIX as BLOCK_PREFIX
from ivr.operators.accounts import PASSWORD_KEY_PREFIX, TOKEN_KEY_PREFIX, TOKENS_INDEX
from ivr.roster.store import ROSTER_KEY
from ivr.sms.optout import KEY_PREFIX as OPTOUT_PREFIX

# The key names are their owners': a prefix changed there is followed here.
PATTERNS = {
    "tokens": TOKEN_KEY_PREFIX + "*",
    "passwords": PASSWORD_KEY_PREFIX + "*",
    "blocks": BLOCK_PREFIX + "n_*",
    "optouts": OPTOUT_PREFIX + "n_*",
}
OPERATOR_TOKENS = TOKENS_INDEX  # the ids of the tokens
_SCAN_COUNT = 1_000


def find_keys(client: redis.Redis, pattern: str) -> list[str]:
    """The names of the keys matching PATTERN, sorted: found by SCAN calls
    made one after another from here, each looking at about a thousand keys,
    so that Redis answers the line between them however many keys it holds
    (a SCAN loop inside a script would hold it for the whole keyspace)."""
    return sorted({as_text(key) for key in client.scan_iter(match=pattern, count=_SCAN_COUNT)})


def configured(client: redis.Redis) -> dict[str, int]:
    """What is configured now, counted as `Backup.counts` counts."""
    counts = {"roster": int(client.exists(ROSTER_KEY))}
    for section, pattern in PATTERNS.items():
        counts[section] = len(find_keys(client, pattern))
    return counts


def as_text(value: bytes | str | Any) -> str:
    """A key or value as Redis gave it back, as text, whatever the client's
    decode setting."""
    return value.decode() if isinstance(value, bytes) else str(value)
