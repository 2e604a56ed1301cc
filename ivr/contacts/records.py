"""A record of every contact (issue 19): each call, text conversation and
callback, with its channel, language, times, who handled it and how it
ended; and the counselor's wrap-up after it.

A contact is recorded once per source (a dispatch, a thread, a callback
request: `contact:source:<source>`), so a retried webhook or a job run twice
changes nothing. A contact a counselor handled has a wrap-up due: it sits in
their pending list until they complete it, and the desk nags until then.

The wrap-up's codes (dispositions, risk levels, referrals) are content
(flows/wrapup.yaml); this store checks each against the lists it is given.
The note is the counselor's words: kept here only, never logged, expiring
with the retention period like everything else here.

Keys (all expire with the retention period):
    contact:<id>               hash: channel, language, source, started,
                               answered, ended, counselor, outcome, wrapup_due,
                               wrapup_at, wrapup_by, dispositions, risk,
                               referrals, note, counted (what it adds to
                               its tally: ivr/contacts/tallies.py)
    contact:source:<source>    the contact recorded for that source
    contacts:by_start          zset id -> started (the contact log, reports)
    contacts:wrapups:<id>      zset contact -> ended: a counselor's wrap-ups due
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, replace
from typing import cast

import redis

from ivr.contacts.tallies import Tallies
from ivr.platform.redis_store import decoded, stored_time, text

CHANNELS = ("call", "text", "callback")
OUTCOMES = (
    "answered",  # a counselor talked with them (a call, a callback returned)
    "abandoned",  # the caller hung up before anyone answered
    "voicemail",  # they left a message
    "backup_line",  # passed to the always-staffed backup line
    "conversation",  # a text conversation a counselor held
    "unanswered",  # nobody took it before it ended (a thread, a callback that failed)
    "opted_out",  # the texter sent STOP during the conversation
)
BY_START = "contacts:by_start"
BATCH = 500  # contacts fetched per round trip
NOTE_MAX = 2000  # characters: a wrap-up note is for the next shift, not a case file
# Unambiguous when read aloud or typed: no 0/O, 1/I/L (as callback references).
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_contact_id() -> str:
    return "CT-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class WrapUp:
    dispositions: tuple[str, ...]
    risk: str
    referrals: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class WrapUpLists:
    """The codes a wrap-up may use (from flows/wrapup.yaml)."""

    dispositions: frozenset[str]
    risks: frozenset[str]
    referrals: frozenset[str]


@dataclass(frozen=True)
class Contact:
    id: str
    channel: str
    language: str
    source: str
    started: float
    answered: float | None
    ended: float | None
    counselor: str
    outcome: str
    wrapup_due: bool
    wrapup_at: float | None = None
    wrapup_by: str = ""
    dispositions: tuple[str, ...] = field(default=())
    risk: str = ""
    referrals: tuple[str, ...] = field(default=())
    note: str = ""
    detail: str = ""  # what else tells its story: a call's dispatch id (who was rung)

    @property
    def waited_seconds(self) -> float | None:
        """From the start until a person answered (or it ended unanswered)."""
        until = self.answered or self.ended
        return None if until is None else max(0.0, until - self.started)

    @property
    def talked_seconds(self) -> float | None:
        if self.answered is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.answered)


class WrapUpRefused(ValueError):
    """A wrap-up the store will not take; FIELD names what was wrong, for the
    message beside that field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(code for code in (value or "").split(",") if code)


class Contacts:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self._redis = client
        self._ttl = retention_seconds
        self.tallies = Tallies(client, retention_seconds)

    @staticmethod
    def _key(contact_id: str) -> str:
        return f"contact:{contact_id}"

    @staticmethod
    def _wrapups(counselor: str) -> str:
        return f"contacts:wrapups:{counselor}"

    def record(
        self,
        source: str,
        *,
        channel: str,
        language: str,
        started: float,
        ended: float,
        outcome: str,
        counselor: str = "",
        answered: float | None = None,
        detail: str = "",
    ) -> tuple[str, bool]:
        """The contact of SOURCE ("dispatch:<id>", "thread:<id>", "callback:<ref>"),
        recorded once; its id and whether it is new. A contact a counselor
        handled has their wrap-up due."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        contact_id = new_contact_id()
        by_source = f"contact:source:{source}"
        if not self._redis.set(by_source, contact_id, nx=True, ex=self._ttl):
            earlier = text(self._redis.get(by_source) or b"")
            if earlier and self._redis.exists(self._key(earlier)):
                return earlier, False
            # Its writer died between naming the contact and writing it: write
            # it now, under that name, rather than lose the contact.
            contact_id = earlier or contact_id
        key = self._key(contact_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "channel": channel,
                "language": language,
                "source": source,
                "started": started,
                "answered": answered if answered is not None else "",
                "ended": ended,
                "counselor": counselor,
                "outcome": outcome,
                "wrapup_due": int(bool(counselor)),
                "detail": detail,
            },
        )
        pipe.expire(key, self._ttl)
        self.tallies.recount(key, started, pipe)
        pipe.zadd(BY_START, {contact_id: started})
        pipe.zremrangebyscore(BY_START, 0, time.time() - self._ttl)
        self.tallies.forget_before(time.time() - self._ttl, pipe)
        if counselor:
            pipe.zadd(self._wrapups(counselor), {contact_id: ended})
            pipe.expire(self._wrapups(counselor), self._ttl)
        pipe.execute()
        return contact_id, True

    def settle(
        self,
        source: str,
        outcome: str,
        *,
        unless: tuple[str, ...] = (),
        counselor: str = "",
        answered: float | None = None,
    ) -> bool:
        """SOURCE's contact ended otherwise than first recorded (a caller left
        unanswered then left a message; a call or a callback answered on a
        later try): its outcome is now OUTCOME, unless it is one of UNLESS.
        COUNSELOR (and when ANSWERED): who handled it after all, if nobody had,
        with their wrap-up due. False when there is no such contact or it
        stays as it was."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        contact_id = self.of_source(source)
        contact = self.get(contact_id) if contact_id else None
        if contact is None or contact.outcome == outcome or contact.outcome in unless:
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._key(contact.id), "outcome", outcome)
        if counselor and not contact.counselor:
            fields: dict[str, str | float | int] = {"counselor": counselor, "wrapup_due": 1}
            if answered is not None:
                fields["answered"] = answered
            pipe.hset(self._key(contact.id), mapping=fields)  # type: ignore[arg-type]
            pipe.zadd(self._wrapups(counselor), {contact.id: contact.ended or time.time()})
            pipe.expire(self._wrapups(counselor), self._ttl)
        self.tallies.recount(self._key(contact.id), contact.started, pipe)
        pipe.execute()
        return True

    def get(self, contact_id: str) -> Contact | None:
        return _contact(contact_id, decoded(self._redis.hgetall(self._key(contact_id))))

    def many(self, contact_ids: list[str]) -> list[Contact | None]:
        """Each contact (None for one expired), fetched in pipelined batches:
        a month's log is one round trip per 500 contacts, not one each."""
        found: list[Contact | None] = []
        for start in range(0, len(contact_ids), BATCH):
            batch = contact_ids[start : start + BATCH]
            pipe = self._redis.pipeline(transaction=False)
            for contact_id in batch:
                pipe.hgetall(self._key(contact_id))
            records = pipe.execute()
            found += [_contact(i, decoded(r)) for i, r in zip(batch, records, strict=True)]
        return found

    def of_source(self, source: str) -> str | None:
        found = self._redis.get(f"contact:source:{source}")
        return text(found) if found is not None else None

    def between(self, start: float, end: float) -> list[Contact]:
        """Contacts that started in [START, END), oldest first; expired ones dropped."""
        ids = [text(raw) for raw in self._redis.zrangebyscore(BY_START, start, f"({end}")]
        found = []
        gone = []
        for contact_id, contact in zip(ids, self.many(ids), strict=True):
            if contact is None:
                gone.append(contact_id)
            else:
                found.append(contact)
        if gone:
            self._redis.zrem(BY_START, *gone)
        return found

    def tallied(self) -> bool:
        """Every kept contact counted in the tallies (after an upgrade, the
        first report recounts them once); True when it had to."""
        if self.tallies.current():
            return False  # one GET: the year's ids are fetched only to recount
        kept = cast(
            "list[tuple[bytes, float]]", self._redis.zrange(BY_START, 0, -1, withscores=True)
        )
        return self.tallies.ensure((self._key(text(raw)), started) for raw, started in kept)

    def recount_since(self, moment: float) -> int:
        """Recount the tallies of the contacts that started since MOMENT (a
        no-op for each already counted as it stands): what a process of an
        older version recorded during a rolling upgrade, or changed later,
        is counted within a sweep. How many were read."""
        kept = cast(
            "list[tuple[bytes, float]]",
            self._redis.zrangebyscore(BY_START, moment, "+inf", withscores=True),
        )
        self.tallies.recount_all([(self._key(text(raw)), started) for raw, started in kept])
        return len(kept)

    def wrapups_due(self, counselor: str) -> list[Contact]:
        """The counselor's contacts still waiting for a wrap-up, oldest first."""
        found = []
        for raw in self._redis.zrange(self._wrapups(counselor), 0, -1):
            contact = self.get(text(raw))
            if contact is None or not contact.wrapup_due:
                self._redis.zrem(self._wrapups(counselor), text(raw))
            else:
                found.append(contact)
        return found

    def overdue(self, counselor: str, grace_seconds: float, now: float | None = None) -> int:
        """How many of the counselor's wrap-ups are older than GRACE_SECONDS.
        An entry whose contact expired or was wrapped up another way is
        dropped, never counted: it would hold them back from work for nothing."""
        moment = time.time() if now is None else now
        due = self._wrapups(counselor)
        count = 0
        for raw in self._redis.zrangebyscore(due, 0, moment - grace_seconds):
            contact = self.get(text(raw))
            if contact is None or not contact.wrapup_due:
                self._redis.zrem(due, text(raw))
            else:
                count += 1
        return count

    def wrap_up(self, contact_id: str, by: str, wrap: WrapUp, lists: WrapUpLists) -> Contact:
        """BY completes the contact's wrap-up (the counselor who handled it; an
        admin may too: the caller checks who may). Refused, changing nothing,
        for an unknown code, a missing disposition or risk, or a note too long."""
        contact = self.get(contact_id)
        if contact is None:
            raise WrapUpRefused("contact", f"no contact {contact_id}")
        if not wrap.dispositions:
            raise WrapUpRefused("dispositions", "choose at least one disposition")
        for code in wrap.dispositions:
            if code not in lists.dispositions:
                raise WrapUpRefused("dispositions", f"unknown disposition {code!r}")
        if wrap.risk not in lists.risks:
            raise WrapUpRefused("risk", "choose the risk level")
        for code in wrap.referrals:
            if code not in lists.referrals:
                raise WrapUpRefused("referrals", f"unknown referral {code!r}")
        if len(wrap.note) > NOTE_MAX:
            raise WrapUpRefused(
                "note", f"the note is {len(wrap.note)} characters; {NOTE_MAX} at most"
            )
        done = replace(
            contact,
            wrapup_due=False,
            wrapup_at=time.time(),
            wrapup_by=by,
            dispositions=tuple(dict.fromkeys(wrap.dispositions)),
            risk=wrap.risk,
            referrals=tuple(dict.fromkeys(wrap.referrals)),
            note=wrap.note,
        )
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            self._key(contact_id),
            mapping={
                "wrapup_due": 0,
                "wrapup_at": done.wrapup_at or 0,
                "wrapup_by": by,
                "dispositions": ",".join(done.dispositions),
                "risk": done.risk,
                "referrals": ",".join(done.referrals),
                "note": done.note,
            },
        )
        if contact.counselor:
            pipe.zrem(self._wrapups(contact.counselor), contact_id)
        self.tallies.recount(self._key(contact_id), contact.started, pipe)
        pipe.execute()
        return done


def _contact(contact_id: str, record: dict[str, str]) -> Contact | None:
    if not record.get("channel"):
        return None
    return Contact(
        id=contact_id,
        channel=record["channel"],
        language=record.get("language", ""),
        source=record.get("source", ""),
        started=float(record.get("started", 0)),
        answered=stored_time(record.get("answered")),
        ended=stored_time(record.get("ended")),
        counselor=record.get("counselor", ""),
        outcome=record.get("outcome", ""),
        wrapup_due=record.get("wrapup_due") == "1",
        wrapup_at=stored_time(record.get("wrapup_at")),
        wrapup_by=record.get("wrapup_by", ""),
        dispositions=_codes(record.get("dispositions")),
        risk=record.get("risk", ""),
        referrals=_codes(record.get("referrals")),
        note=record.get("note", ""),
        detail=record.get("detail", ""),
    )
