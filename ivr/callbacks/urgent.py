"""Urgent items: who must take them, by when, and how far up the ladder they are.

An item is work that must be claimed by a person: a callback request (its
reference: a crisis text's urgent callback, an urgent callback, a voicemail's
callback) or a message nobody may call back, which someone must hear (`VM-…`,
its recording the item's subject), or a texter waiting to text with a
counselor (`TX-…`, the thread).
It opens at step 0 (the counselors on call were alerted) with a deadline.
Each time the deadline passes unclaimed, the item climbs one step of LADDER;
the last step (the backup line) is tried again at most BACKUP_TRIES times.

A step is done in two halves, so that a worker killed in the middle neither
skips it nor runs it twice at once: `begin` (atomic) moves the item to the
step and pushes its deadline a lease ahead; `finish` records the step done
and sets the next deadline. A step begun and never finished is due again
when its lease runs out, and is run again (its texts are sent once: the
outbox dedupes them by cause). A claim removes the deadline at once: a step
begun after it finds nothing to do.

Keys: `urgent:<reference>` (hash), `urgent:deadlines` (zset: reference -> when
the next step is due), `urgent:open` (zset: reference -> opened), and
`urgent:<reference>:audit` (list). All expire with the retention period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from ivr.platform.config import Settings
from ivr.platform.redis_store import decoded

LADDER = ("on_call", "on_call_again", "supervisors", "backup")
ON_CALL, ON_CALL_AGAIN, SUPERVISORS, BACKUP = range(len(LADDER))
BACKUP_TRIES = 3  # the backup line is called at most this many times for one item
# Work with nobody to dial (a message to hear, a texter waiting) has no backup
# line to call: its last step texts everyone on call, at each deadline, until
# someone takes it — a counselor coming on shift hours later is told too.
UNTIL_TAKEN = 10**9
KINDS = ("crisis", "callback", "voicemail", "message", "conversation")
# Work with nobody to dial: its ladder is texts only (workers/escalate.py).
TEXTS_ONLY = ("message", "conversation")
DEADLINES = "urgent:deadlines"
OPEN = "urgent:open"
# "<reference> <seconds from opening to claim>" -> when claimed; kept for the
# retention period: /metrics' time to claim.
CLAIMED = "urgent:claimed"
REACHED_BACKUP = "urgent:reached_backup"  # how many items ever reached the backup line

# Atomic: the step an overdue, unclaimed item climbs to (or repeats, when the
# last one was begun and not finished), its deadline pushed a lease ahead.
_BEGIN = """
local item, deadlines = KEYS[1], KEYS[2]
local now, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local last, tries, reference = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local due = redis.call('ZSCORE', deadlines, reference)
if not due or tonumber(due) > now or redis.call('HGET', item, 'claimed_by') then
  return -1
end
local step = tonumber(redis.call('HGET', item, 'step') or '0')
local runs = tonumber(redis.call('HGET', item, 'runs') or '0') + 1
if redis.call('HGET', item, 'done') == '1' then
  runs = 1
  if step >= last then
    local backup_tries = tonumber(redis.call('HGET', item, 'backup_tries') or '0')
    if backup_tries >= tries then
      redis.call('ZREM', deadlines, reference)
      return -2
    end
  else
    step = step + 1
  end
end
if step >= last then
  redis.call('HINCRBY', item, 'backup_tries', 1)
end
redis.call('HSET', item, 'step', step, 'done', '0', 'runs', runs)
redis.call('ZADD', deadlines, now + lease, reference)
return step
"""


def deadline_after(kind: str, settings: Settings) -> int:
    """Seconds an item of KIND may wait unclaimed before its next step: the
    one rule, for opening an item and for each step after."""
    # A texter waiting to text with someone is waiting now, as a crisis is.
    fast = kind in ("crisis", "conversation")
    return settings.urgent_crisis_seconds if fast else settings.urgent_seconds


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Atomic: a step recorded done, the backup count, the next deadline (unless
# claimed meanwhile) and the audit line, together.
_FINISH = """
local item, deadlines, audit, backups = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local reference, backup, next_due = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local audit_line, ttl = ARGV[4], tonumber(ARGV[5])
redis.call('HSET', item, 'done', 1)
if backup and redis.call('HSETNX', item, 'reached_backup', 1) == 1 then
  redis.call('INCR', backups)
end
if not redis.call('HGET', item, 'claimed_by') then
  redis.call('ZADD', deadlines, 'XX', next_due, reference)
end
redis.call('RPUSH', audit, audit_line)
redis.call('EXPIRE', audit, ttl)
return 1
"""


@dataclass(frozen=True)
class UrgentItem:
    reference: str
    kind: str
    language: str
    opened: float
    step: int
    claimed_by: str
    claimed_at: float | None
    reached_backup: bool
    runs: int = 0  # times its current step was begun: more than 1 after a worker died in it
    subject: str = ""  # a message's recording SID; "" for a callback request
    backup_tries: int = 0  # times its last step was begun

    @property
    def step_name(self) -> str:
        return LADDER[self.step]

    def age(self, now: float) -> float:
        return max(0.0, (self.claimed_at or now) - self.opened)


class UrgentItems:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self._redis = client
        self._ttl = retention_seconds
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)

    @staticmethod
    def _key(reference: str) -> str:
        return f"urgent:{reference}"

    def open(
        self,
        reference: str,
        kind: str,
        language: str,
        deadline: float,
        *,
        now: float | None = None,
        subject: str = "",
    ) -> bool:
        """Opened once: a repeated event (a retried webhook) changes nothing.
        DEADLINE: when step 1 is due (now: nobody could be alerted). SUBJECT:
        what a message item is about (its recording SID)."""
        if kind not in KINDS:
            raise ValueError(f"unknown urgent kind {kind!r}")
        moment = time.time() if now is None else now
        key = self._key(reference)
        if not self._redis.hsetnx(key, "opened", moment):
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={"kind": kind, "language": language, "step": 0, "done": 1, "subject": subject},
        )
        pipe.expire(key, self._ttl)
        pipe.zadd(OPEN, {reference: moment})
        pipe.zadd(DEADLINES, {reference: deadline})
        pipe.execute()
        self.note(reference, "opened; the counselors on call alerted")
        return True

    def reopen(self, reference: str, deadline: float, *, now: float | None = None) -> bool:
        """Work taken and given back (a conversation handed back to those on
        call): unclaimed again, at the ladder's first step, DEADLINE its next.
        False when there is no such item."""
        key = self._key(reference)
        if not self._redis.exists(key):
            return False
        moment = time.time() if now is None else now
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(key, "claimed_by", "claimed_at", "backup_tries")
        pipe.hset(key, mapping={"step": 0, "done": 1, "runs": 0})
        pipe.zadd(OPEN, {reference: moment})
        pipe.zadd(DEADLINES, {reference: deadline})
        pipe.execute()
        self.note(reference, "given back; the counselors on call alerted again")
        return True

    def get(self, reference: str) -> UrgentItem | None:
        record = decoded(self._redis.hgetall(self._key(reference)))
        if not record.get("kind"):
            return None
        claimed_at = record.get("claimed_at")
        return UrgentItem(
            reference,
            record["kind"],
            record.get("language", ""),
            float(record.get("opened", 0)),
            int(record.get("step", 0)),
            record.get("claimed_by", ""),
            float(claimed_at) if claimed_at else None,
            record.get("reached_backup") == "1",
            int(record.get("runs", 0)),
            record.get("subject", ""),
            int(record.get("backup_tries", 0)),
        )

    def claim(self, reference: str, by: str, *, now: float | None = None) -> bool:
        """Taken by BY (a counselor's id, an operator, "backup line"): the ladder
        stops at once. False when unknown or already claimed (the first claim
        stands)."""
        key = self._key(reference)
        if not self._redis.exists(key) or not self._redis.hsetnx(key, "claimed_by", by or "-"):
            return False
        moment = time.time() if now is None else now
        opened = float(self._redis.hget(key, "opened") or moment)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, "claimed_at", moment)
        pipe.zrem(DEADLINES, reference)
        pipe.zrem(OPEN, reference)
        pipe.zadd(CLAIMED, {f"{reference} {moment - opened:.1f}": moment})
        pipe.zremrangebyscore(CLAIMED, 0, moment - self._ttl)
        pipe.execute()
        self.note(reference, f"claimed by {by}")
        return True

    def open_items(self) -> list[UrgentItem]:
        """Unclaimed, oldest first; expired records dropped."""
        found: list[UrgentItem] = []
        for raw in self._redis.zrange(OPEN, 0, -1):
            reference = raw.decode() if isinstance(raw, bytes) else str(raw)
            item = self.get(reference)
            if item is None:
                self._redis.zrem(OPEN, reference)
                self._redis.zrem(DEADLINES, reference)
            else:
                found.append(item)
        return found

    def due(self, now: float | None = None) -> list[str]:
        moment = time.time() if now is None else now
        return [
            raw.decode() if isinstance(raw, bytes) else str(raw)
            for raw in self._redis.zrangebyscore(DEADLINES, 0, moment)
        ]

    def begin(
        self, reference: str, lease: float, *, now: float | None = None, tries: int = BACKUP_TRIES
    ) -> int | None:
        """The step to run now, or None: not due, claimed, or past its last
        try (TRIES of the last step; work with nobody to dial repeats it until
        taken)."""
        moment = time.time() if now is None else now
        step = int(
            self._begin(
                keys=[self._key(reference), DEADLINES],
                args=[moment, lease, BACKUP, tries, reference],
            )
        )
        if step == -2:
            self.note(reference, "the backup line was called its last time; left open")
        return step if step >= 0 else None

    def finish(
        self,
        reference: str,
        step: int,
        next_due: float,
        what: str,
        *,
        called_backup: bool | None = None,
    ) -> None:
        """STEP done (WHAT it did, for the audit); the next one due at NEXT_DUE,
        unless claimed meanwhile. One script: a worker killed here leaves the
        step either undone (run again) or done and audited, never done unsaid."""
        self._finish(
            keys=[self._key(reference), DEADLINES, f"{self._key(reference)}:audit", REACHED_BACKUP],
            args=[
                reference,
                int(step >= BACKUP if called_backup is None else called_backup),
                next_due,
                f"{int(time.time())} {LADDER[step]}: {what}",
                self._ttl,
            ],
        )

    def hurry(self, reference: str, *, now: float | None = None) -> None:
        """The next step is due now (nobody could be reached at this one)."""
        moment = time.time() if now is None else now
        self._redis.zadd(DEADLINES, {reference: moment}, xx=True)

    def note(self, reference: str, what: str) -> None:
        audit = f"{self._key(reference)}:audit"
        pipe = self._redis.pipeline(transaction=False)
        pipe.rpush(audit, f"{int(time.time())} {what}")
        pipe.expire(audit, self._ttl)
        pipe.execute()

    def audit(self, reference: str) -> list[str]:
        return [
            raw.decode() if isinstance(raw, bytes) else str(raw)
            for raw in self._redis.lrange(f"{self._key(reference)}:audit", 0, -1)
        ]

    def reached_backup(self) -> int:
        """Items that ever climbed to the backup line (a count: no reference)."""
        return int(self._redis.get(REACHED_BACKUP) or 0)

    def times_to_claim_between(self, start: float, end: float) -> list[float]:
        """Seconds from opening to claim, of the items claimed from START to END."""
        members = self._redis.zrangebyscore(CLAIMED, start, f"({end}")
        return [float(_text(member).rsplit(" ", 1)[1]) for member in members]

    def times_to_claim(self) -> list[float]:
        """Seconds from opening to claim, of the items claimed and still kept."""
        members = self._redis.zrangebyscore(CLAIMED, time.time() - self._ttl, "+inf")
        return [float(_text(member).rsplit(" ", 1)[1]) for member in members]
