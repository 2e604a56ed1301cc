"""Text conversations with a person (issue 19): who holds each, and what was
said, both ways.

A texter who asks for a person opens a thread (`TX-…`), waiting. The first
counselor to take it holds it (one Lua script, like the call claim: two
counselors taking it at once cannot both win); everyone else sees it taken.
The holder may hand it to another counselor, or back to the waiting pool, and
close it. A texter has at most one open thread: a second "TALK" while one is
open is the same thread.

Each message is a JSON line in the thread's list; its place in the list is its
sequence number, which the desk polls from and the outbox's cause is built
from (`thread:<id>:<seq>`), so a message re-sent after a crash is sent once.
A counselor's message is appended only while they hold the thread (checked in
the same script that appends it); it is `queued` until the outbox has taken
it, so a process killed in between leaves it for `unsent` to find.

Keys (all expire with the retention period):
    thread:<id>               hash: number (the only clear copy), number_ref,
                              language, state, holder, opened, taken_at,
                              closed_at, closed_by, closed_why, last_texter_at,
                              last_counselor_at, crisis_at
    thread:<id>:messages      list of JSON {at, sender, body, crisis, status, and
                              for the line's own texts part: its outbox part}
    thread:<id>:seen          hash counselor -> the last message shown them (seen.py)
    thread:number:<ref>       the texter's open thread, by the keyed hash of the number
    threads:waiting           zset id -> opened: offered to the counselors on call
    threads:open              zset id -> opened: waiting or held
    threads:held:<counselor>  zset id -> taken
    threads:crisis_due        zset id -> when a crisis message unanswered by
                              its holder gets the automatic crisis reply
    threads:quiet_due         zset id -> when a silent texter's thread closes
    threads:unsent            zset "<id> <seq>" -> when a counselor's message
                              not yet taken by the outbox is sent by a worker
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from ivr.platform.config import Settings
from ivr.platform.privacy import number_ref
from ivr.platform.redis_store import decoded, stored_time, text
from ivr.threads import scripts

STATES = ("waiting", "held", "closed")
WAITING = "threads:waiting"
OPEN = "threads:open"
TEXTER = "texter"  # the sender of a texter's message; a counselor's is their id
# The line's own texts in a thread, for the counselor to see what the texter
# was told: the wait, HELP and CALL replies, crisis replies, the closing text.
LINE = "line"
PREFIX = "TX"
CRISIS_DUE = "threads:crisis_due"
QUIET_DUE = "threads:quiet_due"
UNSENT = "threads:unsent"
# A counselor's message the web process did not hand to the outbox (it died
# in between) is sent by a worker after this long.
UNSENT_GRACE_SECONDS = 30
DUE_LEASE_SECONDS = 60  # a deadline the sweeper took is due again after this


@dataclass(frozen=True)
class Thread:
    id: str
    language: str
    state: str  # waiting | held | closed
    holder: str  # a counselor's id while held
    opened: float
    taken_at: float | None
    closed_at: float | None
    closed_by: str
    closed_why: str
    last_texter_at: float | None
    last_counselor_at: float | None
    crisis_at: float | None  # a crisis message no counselor has answered yet
    number_ref: str
    crisis_seq: int = -1  # the latest message read as a crisis

    @property
    def is_open(self) -> bool:
        return self.state in ("waiting", "held")


@dataclass(frozen=True)
class ThreadMessage:
    seq: int
    at: float
    sender: str  # "texter", "line", or the counselor's id
    body: str
    crisis: bool
    status: str  # received | queued | sent (taken by the outbox) | refused
    # The line's own text: the outbox batch and part that carried it
    # ("<batch>:<index>"), to tell whether it went; "" for an inline reply.
    part: str = ""


def _member(member: str) -> tuple[str, int]:
    thread_id, _, seq = member.partition(" ")
    return thread_id, int(seq)


def _message(seq: int, raw: object) -> ThreadMessage:
    message = json.loads(text(raw))
    return ThreadMessage(
        seq=seq,
        at=float(message["at"]),
        sender=str(message["sender"]),
        body=str(message["body"]),
        crisis=bool(message.get("crisis")),
        status=str(message["status"]),
        part=str(message.get("part", "")),
    )


class Threads:
    @classmethod
    def for_settings(cls, client: redis.Redis, settings: Settings) -> Threads:
        """The store as the line's settings configure it."""
        return cls(
            client,
            settings.secret_key,
            settings.retention_seconds,
            crisis_seconds=settings.thread_crisis_seconds,
            silence_seconds=settings.thread_silence_seconds,
        )

    def __init__(
        self,
        client: redis.Redis,
        secret_key: str,
        retention_seconds: int,
        *,
        crisis_seconds: float = 120,
        silence_seconds: float = 1800,
    ) -> None:
        """CRISIS_SECONDS: how long a held thread's crisis message may go
        unanswered before the automatic crisis reply; SILENCE_SECONDS: how long
        a texter may be silent before the thread closes with a closing text."""
        self._redis = client
        self._secret = secret_key
        self._ttl = retention_seconds
        self._crisis_seconds = crisis_seconds
        self._silence_seconds = silence_seconds
        self._claim = client.register_script(scripts.CLAIM)
        self._hand = client.register_script(scripts.HAND)
        self._close = client.register_script(scripts.CLOSE)
        self._say = client.register_script(scripts.SAY)
        self._hear = client.register_script(scripts.HEAR)
        self._mark = client.register_script(scripts.MARK)
        self._take_due = client.register_script(scripts.TAKE_DUE)

    @property
    def redis(self) -> redis.Redis:
        return self._redis

    @staticmethod
    def _key(thread_id: str) -> str:
        return f"thread:{thread_id}"

    @staticmethod
    def _held(counselor: str) -> str:
        return f"threads:held:{counselor}"

    def key_of(self, number: str) -> str:
        """The key naming the texter's open thread: it exists only while one
        is open, so a caller can learn that in a round trip it makes anyway."""
        return f"thread:number:{number_ref(self._secret, number)}"

    # -- opening and finding ---------------------------------------------------

    def open(self, number: str, language: str, new_id: str) -> tuple[str, bool]:
        """The texter's open thread, or a new one named NEW_ID; True when new.
        Texts from one number are handled one at a time (ivr/sms/conversation.py),
        so two askings cannot race here."""
        earlier = self.open_thread_of(number)
        if earlier is not None:
            return earlier, False
        now = time.time()
        key = self._key(new_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "number": number,
                "number_ref": number_ref(self._secret, number),
                "language": language,
                "state": "waiting",
                "holder": "",
                "opened": now,
            },
        )
        pipe.expire(key, self._ttl)
        pipe.set(self.key_of(number), new_id, ex=self._ttl)
        pipe.zadd(WAITING, {new_id: now})
        pipe.zadd(OPEN, {new_id: now})
        pipe.zadd(QUIET_DUE, {new_id: now + self._silence_seconds})
        pipe.execute()
        return new_id, True

    def open_thread_of(self, number: str) -> str | None:
        """The id of the texter's thread while it is open."""
        found = self._redis.get(self.key_of(number))
        if found is None:
            return None
        thread_id = text(found)
        thread = self.get(thread_id)
        return thread_id if thread is not None and thread.is_open else None

    def get(self, thread_id: str) -> Thread | None:
        record = decoded(self._redis.hgetall(self._key(thread_id)))
        if not record.get("state"):
            return None
        return Thread(
            id=thread_id,
            language=record.get("language", ""),
            state=record["state"],
            holder=record.get("holder", ""),
            opened=float(record.get("opened", 0)),
            taken_at=stored_time(record.get("taken_at")),
            closed_at=stored_time(record.get("closed_at")),
            closed_by=record.get("closed_by", ""),
            closed_why=record.get("closed_why", ""),
            last_texter_at=stored_time(record.get("last_texter_at")),
            last_counselor_at=stored_time(record.get("last_counselor_at")),
            crisis_at=stored_time(record.get("crisis_at")),
            number_ref=record.get("number_ref", ""),
            crisis_seq=int(record.get("crisis_seq", -1)),
        )

    def number_of(self, thread_id: str) -> str | None:
        """The texter's number: for the outbox only, never for a page or a log."""
        found = self._redis.hget(self._key(thread_id), "number")
        return text(found) if found is not None else None

    def _ids(self, index: str) -> list[str]:
        """The ids of INDEX whose record is still kept; the rest dropped."""
        found = []
        for raw in self._redis.zrange(index, 0, -1):
            thread_id = text(raw)
            if self._redis.exists(self._key(thread_id)):
                found.append(thread_id)
            else:
                self._redis.zrem(index, thread_id)
        return found

    def waiting(self) -> list[str]:
        """Offered to the counselors on call, oldest first."""
        return self._ids(WAITING)

    def ahead_of(self, thread_id: str) -> int:
        """How many threads are waiting that were offered before THREAD_ID
        (all that wait, when it is not waiting itself)."""
        # One round trip on a TALK's webhook, not one per waiting thread: a
        # thread whose record expired may still be counted until a list drops it.
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrank(WAITING, thread_id)
        pipe.zcard(WAITING)
        rank, size = pipe.execute()
        return int(size if rank is None else rank)

    def open_ids(self) -> list[str]:
        return self._ids(OPEN)

    def held_by(self, counselor: str) -> list[str]:
        return self._ids(self._held(counselor))

    # -- who holds it ----------------------------------------------------------

    def claim(self, thread_id: str, counselor: str) -> str:
        """'won' (it is theirs now), 'yours' (it already was), or why not:
        'held' (someone else took it first), 'closed', 'gone'."""
        return text(
            self._claim(
                keys=[self._key(thread_id), WAITING, self._held(counselor)],
                args=[counselor, time.time(), thread_id],
            )
        )

    def hand(self, thread_id: str, giver: str, taker: str) -> str:
        """GIVER (its holder) hands it to TAKER, or back to the waiting pool
        (TAKER ''): 'ok', 'not held', 'not yours'."""
        taker_set = self._held(taker) if taker else WAITING
        return text(
            self._hand(
                keys=[self._key(thread_id), WAITING, self._held(giver), taker_set],
                args=[giver, taker, time.time(), thread_id],
            )
        )

    def close(self, thread_id: str, by: str, why: str) -> bool:
        """Closed by BY (a counselor, "texter" for STOP, "line" for silence);
        False when it was closed already or is gone."""
        thread = self.get(thread_id)
        if thread is None:
            return False
        number = self.number_of(thread_id) or ""
        done = self._close(
            keys=[
                self._key(thread_id),
                WAITING,
                OPEN,
                self._held(thread.holder),
                self.key_of(number),
                CRISIS_DUE,
                QUIET_DUE,
            ],
            args=[by, why, time.time(), thread_id],
        )
        return text(done) == "ok"

    # -- what was said ---------------------------------------------------------

    def _line(self, sender: str, body: str, crisis: bool, status: str, part: str = "") -> str:
        message: dict[str, object] = {"at": time.time(), "sender": sender, "body": body}
        message |= {"status": status, "crisis": crisis}
        if part:
            message["part"] = part
        return json.dumps(message, ensure_ascii=False)

    def hear(self, thread_id: str, body: str, *, crisis: bool = False) -> int | None:
        """The texter's message; its sequence, or None when the thread is not
        open. CRISIS: it reads as one; it stays flagged until a counselor
        answers (`crisis_at`)."""
        seq, _ = self._heard(thread_id, body, crisis)
        return seq

    def hear_crisis(self, thread_id: str, body: str) -> tuple[int | None, bool]:
        """A texter's message that reads as a crisis: its sequence (None when
        the thread is not open), and whether a counselor holds the thread, so
        that its automatic reply is now due unless they answer first: decided
        in the same step that keeps it, so a close or a hand-back in between
        cannot leave it with no reply at all."""
        return self._heard(thread_id, body, True)

    def _heard(self, thread_id: str, body: str, crisis: bool) -> tuple[int | None, bool]:
        seq, due = self._hear(
            keys=[self._key(thread_id), f"{self._key(thread_id)}:messages", CRISIS_DUE, QUIET_DUE],
            args=[
                self._line(TEXTER, body, crisis, "received"),
                time.time(),
                "1" if crisis else "",
                self._ttl,
                thread_id,
                self._crisis_seconds,
                self._silence_seconds,
            ],
        )
        return (int(seq) if int(seq) >= 0 else None), bool(int(due))

    def say(self, thread_id: str, counselor: str, body: str) -> int | None:
        """COUNSELOR's message, queued for the outbox; its sequence, or None
        when they do not hold the thread (taken from them, closed)."""
        seq = int(
            self._say(
                keys=[
                    self._key(thread_id),
                    f"{self._key(thread_id)}:messages",
                    CRISIS_DUE,
                    UNSENT,
                    QUIET_DUE,
                ],
                args=[
                    counselor,
                    self._line(counselor, body, False, "queued"),
                    time.time(),
                    self._ttl,
                    thread_id,
                    UNSENT_GRACE_SECONDS,
                    self._silence_seconds,
                ],
            )
        )
        return seq if seq >= 0 else None

    def note_line_texts(self, thread_id: str, bodies: Sequence[str], batch_id: str = "") -> None:
        """Texts the line itself sent the texter in this thread (the wait, the
        closing text), for the counselor to see, in one step. BATCH_ID: the
        outbox batch carrying them, one part each ("<batch>:<index>"), so the
        desk can say whether each went; none for an inline reply."""
        if not bodies:
            return
        key = f"{self._key(thread_id)}:messages"
        parts = [f"{batch_id}:{i}" if batch_id else "" for i in range(len(bodies))]
        lines = [
            self._line(LINE, body, False, "sent", p) for body, p in zip(bodies, parts, strict=True)
        ]
        pipe = self._redis.pipeline(transaction=True)
        pipe.rpush(key, *lines)
        pipe.expire(key, self._ttl)
        pipe.execute()

    def mark(self, thread_id: str, seq: int, status: str) -> bool:
        """A message's new status; one the outbox took (or refused) leaves the
        unsent set."""
        marked = bool(self._mark(keys=[f"{self._key(thread_id)}:messages"], args=[seq, status]))
        if status != "queued":
            self._redis.zrem(UNSENT, f"{thread_id} {seq}")
        return marked

    # -- what the sweeper finds due -------------------------------------------

    def _due(self, index: str, now: float | None, lease: float = 0) -> list[str]:
        """What is due in INDEX. LEASE: pushed that far ahead in the same step,
        so the sweeper (every 2 s) queues one job for it, not one a sweep; a
        job that died leaves it due again when the lease runs out."""
        moment = time.time() if now is None else now
        if not lease:
            return [text(raw) for raw in self._redis.zrangebyscore(index, 0, moment)]
        taken = self._take_due(keys=[index], args=[moment, moment + lease])
        return [text(raw) for raw in taken]

    def take_crisis_due(self, lease: float = DUE_LEASE_SECONDS) -> list[str]:
        """For the sweeper: crisis_due, each leased."""
        return self._due(CRISIS_DUE, None, lease)

    def take_quiet_due(self, lease: float = DUE_LEASE_SECONDS) -> list[str]:
        return self._due(QUIET_DUE, None, lease)

    def take_unsent_due(self, lease: float = DUE_LEASE_SECONDS) -> list[tuple[str, int]]:
        return [_member(member) for member in self._due(UNSENT, None, lease)]

    def quiet_again(self, thread_id: str) -> None:
        """A waiting thread is not closed for silence (nobody took it yet: the
        texter was promised a counselor would write): checked again later."""
        self._redis.zadd(QUIET_DUE, {thread_id: time.time() + self._silence_seconds}, xx=True)

    def crisis_due(self, now: float | None = None) -> list[str]:
        """Held threads whose crisis message nobody answered in time."""
        return self._due(CRISIS_DUE, now)

    def crisis_answered(self, thread_id: str) -> bool:
        """The automatic crisis reply went: not due again for that message.
        True for the one caller that took it off the due list."""
        return bool(self._redis.zrem(CRISIS_DUE, thread_id))

    def quiet_due(self, now: float | None = None) -> list[str]:
        """Open threads whose texter has been silent too long."""
        return self._due(QUIET_DUE, now)

    def unsent_due(self, now: float | None = None) -> list[tuple[str, int]]:
        """(thread, seq) of counselors' messages the outbox never got."""
        return [_member(member) for member in self._due(UNSENT, now)]

    def message(self, thread_id: str, seq: int) -> ThreadMessage | None:
        raw = self._redis.lindex(f"{self._key(thread_id)}:messages", seq) if seq >= 0 else None
        return _message(seq, raw) if raw is not None else None

    def messages(self, thread_id: str, after: int = -1) -> list[ThreadMessage]:
        """The messages after sequence AFTER (all of them by default), in order."""
        raws = self._redis.lrange(f"{self._key(thread_id)}:messages", after + 1, -1)
        return [_message(seq, raw) for seq, raw in enumerate(raws, start=after + 1)]

    def unsent(self, thread_id: str, older_than: float) -> list[ThreadMessage]:
        """Counselors' messages still `queued` OLDER_THAN seconds after they were
        written: the process sending them died before the outbox took them."""
        cutoff = time.time() - older_than
        return [
            message
            for message in self.messages(thread_id)
            if message.status == "queued" and message.at <= cutoff
        ]
