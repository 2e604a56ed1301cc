"""Numbers an operator has blocked, each for a while, with a reason.

A blocked caller's call is refused before it is answered (`<Reject>`); a
blocked texter gets no reply and nothing is queued for them — except that a
text reading as a crisis is still answered with the 911/988 guidance (see
`ivr.sms.handler`, and "Blocked numbers" in docs/operators.md for why).

No number is kept in clear. Each block is a hash under the keyed hash of the
number (`ivr.platform.privacy.number_ref`, the same reference logs use), holding only
the number's mask (last four digits, for the list), the reason (with any
phone number in it masked), who blocked it and until when. Redis expires the
record at that moment (at most `MAX_SECONDS` ahead), so a block ends by
itself; an index of references by expiry lets the list be read without
scanning keys, and is pruned as it is read.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import phonenumbers
import redis

from ivr.platform.privacy import mask, number_ref
from ivr.platform.redis_store import decoded

KEY_PREFIX = "blocklist:"
INDEX = KEY_PREFIX + "index"  # number ref -> when its block ends (Unix time)
MIN_SECONDS = 60 * 60  # an hour
MAX_SECONDS = 365 * 86400  # a year: a block is for a while, never for ever
DEFAULT_SECONDS = 30 * 86400
MAX_REASON = 200
_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


class BlockError(ValueError):
    """A number, reason or expiry that cannot be used; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Block:
    id: str  # the number's keyed hash: stable, not reversible
    number: str  # masked: the last four digits
    reason: str
    by: str  # who blocked it: "api:…", "web:…", "cli:…"
    created: datetime
    until: datetime
    crisis_texts: int = 0  # crisis texts answered while blocked (see ivr.sms.handler)
    last_crisis: datetime | None = None

    def audited(self) -> dict[str, object]:
        """What the audit log keeps of a block (the number masked already)."""
        return {"number": self.number, "reason": self.reason, "until": self.until.isoformat()}


def phone_number(text: str, region: str = "US") -> str:
    """A number as a person types it ("(202) 555-0177") in E.164, as Twilio
    sends a caller's number; or BlockError."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise BlockError("number", f"not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise BlockError("number", "not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def duration_seconds(text: str) -> int:
    """A duration like "12h", "30d" or "2w" in seconds (an hour to 365 days); or BlockError."""
    spoken = text.strip().lower()
    unit = _UNITS.get(spoken[-1:])
    if unit is None or not spoken[:-1].isdecimal():
        raise BlockError("duration", f"'{text}' is not a duration like 12h, 30d or 2w")
    return _within_limits(int(spoken[:-1]) * unit)


def _within_limits(seconds: float) -> int:
    if seconds < MIN_SECONDS:
        raise BlockError("duration", "a block lasts at least an hour")
    if seconds > MAX_SECONDS:
        raise BlockError("duration", "a block lasts at most 365 days; block again to extend it")
    return int(seconds)


def clean_reason(text: str, region: str = "US") -> str:
    """The reason as kept and shown: one line, any phone number in it masked."""
    printable = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    reason = " ".join(printable.split())
    if not reason:
        raise BlockError("reason", "say why the number is blocked")
    if len(reason) > MAX_REASON:
        raise BlockError("reason", f"keep the reason within {MAX_REASON} characters")
    matcher = phonenumbers.PhoneNumberMatcher(reason, region, phonenumbers.Leniency.POSSIBLE)
    for found in reversed(list(matcher)):
        reason = reason[: found.start] + mask(found.raw_string) + reason[found.end :]
    return reason


class Blocklist:
    def __init__(
        self, client: redis.Redis, secret_key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._secret = secret_key
        self._clock = clock

    def _key(self, ref: str) -> str:
        return KEY_PREFIX + ref

    def ref(self, number: str) -> str:
        return number_ref(self._secret, number)

    # -- checked on every call and text ----------------------------------------

    def is_blocked(self, number: str) -> bool:
        """Whether calls and texts from NUMBER (as Twilio gives it: E.164) are refused."""
        return bool(number) and bool(self._redis.exists(self.key_of(number)))

    def key_of(self, number: str) -> str:
        """The key whose existence blocks NUMBER: for a caller that checks it in
        a pipeline with other reads (one round trip on a webhook's path)."""
        return self._key(self.ref(number))

    def note_crisis(self, number: str) -> None:
        """A crisis text from a blocked number was answered: shown on its block,
        so the operators who set it can see it and reconsider."""
        key = self._key(self.ref(number))
        if not self._redis.exists(key):
            return  # expired meanwhile: HINCRBY would make it again, without expiry
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, "crisis_texts", 1)
        pipe.hset(key, "last_crisis", repr(self._clock()))
        pipe.execute()

    # -- what operators do -------------------------------------------------------

    def block(
        self,
        number: str,
        reason: str,
        *,
        by: str,
        seconds: float | None = None,
        until: datetime | None = None,
    ) -> tuple[Block | None, Block]:
        """Block NUMBER (typed as a person would) until UNTIL, or for SECONDS
        (default 30 days). Blocking a blocked number replaces its reason and
        expiry. Returns the block before (if there was one) and after."""
        e164 = phone_number(number)
        text = clean_reason(reason)
        now = self._clock()
        if until is not None:
            if until.tzinfo is None:
                raise BlockError("until", "give the time with its offset")
            seconds = until.timestamp() - now
        length = _within_limits(DEFAULT_SECONDS if seconds is None else seconds)
        ends = now + length
        ref = self.ref(e164)
        key = self._key(ref)
        before = self._load(ref)
        pipe = self._redis.pipeline(transaction=True)
        # Blocking again replaces reason and expiry; the crisis count stays.
        pipe.hset(
            key,
            mapping={
                "number": mask(e164),
                "reason": text,
                "by": by,
                "created": repr(now),
                "until": repr(ends),
            },
        )
        pipe.expireat(key, int(ends) + 1)
        pipe.zadd(INDEX, {ref: ends})
        pipe.execute()
        after = self._load(ref)
        assert after is not None
        return before, after

    def unblock(self, number: str) -> Block | None:
        """Lift the block on NUMBER (typed as a person would); the block, or None."""
        return self.remove(self.ref(phone_number(number)))

    def remove(self, block_id: str) -> Block | None:
        """Lift a block by its id (from the list); the block, or None."""
        found = self._load(block_id)
        if found is None:
            return None
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._key(block_id))
        pipe.zrem(INDEX, block_id)
        pipe.execute()
        return found

    def get(self, block_id: str) -> Block | None:
        return self._load(block_id)

    def find(self, number: str) -> Block | None:
        """The block on NUMBER (typed as a person would), if any."""
        return self._load(self.ref(phone_number(number)))

    def list(self) -> list[Block]:
        """Every block in force, the soonest to end first; expired ones dropped."""
        now = self._clock()
        self._redis.zremrangebyscore(INDEX, 0, now)
        found = []
        for raw in self._redis.zrange(INDEX, 0, -1):
            ref = raw.decode() if isinstance(raw, bytes) else str(raw)
            block = self._load(ref)
            if block is None:
                self._redis.zrem(INDEX, ref)  # removed or expired meanwhile
            else:
                found.append(block)
        return found

    def _load(self, ref: str) -> Block | None:
        if not ref.startswith("n_") or len(ref) > 40:
            return None  # not one of ours: no key lookup for made-up ids
        record = decoded(self._redis.hgetall(self._key(ref)))
        if "until" not in record:
            return None
        until = float(record["until"])
        if until <= self._clock():
            return None  # Redis expires it within the second
        last = record.get("last_crisis")
        return Block(
            id=ref,
            number=record.get("number", "…"),
            reason=record.get("reason", ""),
            by=record.get("by", ""),
            created=_moment(float(record.get("created", until))),
            until=_moment(until),
            crisis_texts=int(record.get("crisis_texts", "0")),
            last_crisis=_moment(float(last)) if last else None,
        )


def _moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)
