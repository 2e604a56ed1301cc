"""Running tallies of the contact records, so that a report over a year of
contacts reads a few hundred hashes instead of every contact (issue 20: a
report over 100,000 contacts in under a second).

Each contact adds one to a handful of counters, kept by the UTC day and the
quarter hour it started in (every zone's offset is a whole number of quarter
hours, so any zone's local hours and days are unions of quarters):

- the core, per quarter, in one hash per 3 UTC hours (fields
  `<quarter>:<name>`, quarter 0-11 of the block): offered, answered |
  abandoned | missed; and of calls: calls, calls_answered, within:<seconds>
  (answered within each service level), and wait_ms (the answered calls'
  waits, summed) — what the charts by day and by hour read;
- the detail, per quarter in one hash per UTC hour and per UTC day:
  outcome:<outcome>, channel:<channel>, language:<language>, counselor:<id>
  (who answered), disposition:<code>, referral:<code>, risk:<level> — a
  report reads the day totals for the days wholly in its range, the hours
  only at its two ends.

Why those sizes: Redis keeps a hash of at most 128 small fields packed (a
listpack, some 20 bytes a field) and a bigger one as a table (some 90). A
day of a busy line (274 contacts) made one core hash of ~480 fields and a
detail one of ~1,900: 38.7 MB of tallies for 100,000 contacts over a year
(`python -m bench.reports`). Three hours of core (12 quarters of at most 9
counters) and an hour of detail stay packed: 11.8 MB.

A contact changes after it is recorded (settled to another outcome, answered
on a later try, wrapped up), so what it added is kept with it (its
`counted:<version>` field) and a recount takes that back before adding what it adds now. The
recount reads the contact from Redis inside one Lua script, after the write
that changed it: two writers racing (a settle and a wrap-up) each recount
what is stored, never what they read earlier, and a recount run twice
changes nothing. Counts only: no number, word or note is in a tally.

Keys (expire a day after the retention period, so a day's tallies outlive
the last contact that started in it):
    contacts:tally:<v>:core:<block start>   core counters by quarter, 3 hours
    contacts:tally:<v>:detail:<hour start>  detail counters by quarter, an hour
    contacts:tally:<v>:day:<day start>      detail counters of the whole day
    contacts:tally_days                     zset day start -> itself (days with a tally)
    contacts:tallied:<v>                    every kept contact is counted in this version
    contacts:tallied:<v>:recounting         held while one process recounts
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import redis

from ivr.platform.redis_store import text

QUARTER = 900  # seconds
HOUR = 3600
BLOCK = 3 * HOUR  # a core hash: 12 quarters of at most 9 counters, packed (<= 128)
DAY = 86400
DAYS = "contacts:tally_days"
TALLIED = "contacts:tallied"  # :<version>: each version's own
# Bumped when what a tally counts or where it keeps it changes: the keys
# carry it, so counts under another version are never taken back from these
# (they expire), and the next report recounts every contact kept, once.
VERSION = "2"
# A person talked or texted with them: these outcomes, or any contact a
# counselor held after answering (a texter who sent STOP mid-conversation).
ANSWERED = ("answered", "conversation")
# Gone before anyone answered: a caller who hung up waiting, a texter who sent
# STOP while waiting. Every other end with no person is missed.
ABANDONED = ("abandoned", "opted_out")
SERVICE_LEVEL_SECONDS = (20, 60)  # 988's: the share of calls answered within these
# Counted per quarter. The service level and the wait are of calls: 988
# measures how fast a call is answered; a callback is returned hours later
# and a text taken in minutes, and mixing them would say nothing.
CORE = (
    "offered", "answered", "abandoned", "missed", "calls", "calls_answered",
    *(f"within:{s}" for s in SERVICE_LEVEL_SECONDS), "wait_ms",
)  # fmt: skip
BATCH = 500  # contacts recounted per round trip
RECOUNT_LOCK_SECONDS = 300  # one process recounts after an upgrade; others read meanwhile

_RECOUNT = """
local c = redis.call('HGETALL', KEYS[1])
local r = {}
for i = 1, #c, 2 do r[c[i]] = c[i + 1] end
if (r['channel'] or '') == '' then return 0 end
local function listed(value, list)
  for item in string.gmatch(list, '[^,]+') do if item == value then return true end end
  return false
end
local outcome = r['outcome'] or ''
local counselor = r['counselor'] or ''
local answered_at = tonumber(r['answered'] or '')
local kind = 'missed'
if listed(outcome, ARGV[2]) or (counselor ~= '' and answered_at) then
  kind = 'answered'
elseif listed(outcome, ARGV[3]) then
  kind = 'abandoned'
end
local fields = {'offered', kind, 'channel:' .. r['channel'],
                'language:' .. (r['language'] or ''), 'outcome:' .. outcome}
if kind == 'answered' and counselor ~= '' then table.insert(fields, 'counselor:' .. counselor) end
local wait_ms = 0
if r['channel'] == 'call' then
  table.insert(fields, 'calls')
  if kind == 'answered' then
    table.insert(fields, 'calls_answered')
    local started = tonumber(r['started']) or 0
    local waited = math.max(0, (answered_at or tonumber(r['ended'] or '') or started) - started)
    wait_ms = math.floor(waited * 1000 + 0.5)
    for limit in string.gmatch(ARGV[4], '[^,]+') do
      if waited <= tonumber(limit) then table.insert(fields, 'within:' .. limit) end
    end
  end
end
for code in string.gmatch(r['dispositions'] or '', '[^,]+') do
  table.insert(fields, 'disposition:' .. code)
end
for code in string.gmatch(r['referrals'] or '', '[^,]+') do
  table.insert(fields, 'referral:' .. code)
end
if (r['risk'] or '') ~= '' then table.insert(fields, 'risk:' .. r['risk']) end
-- Each version keeps what it added in a field of its own: a process of
-- another version (a rolling upgrade) never overwrites or takes back this one's.
local counted = 'counted:' .. ARGV[8]
local now = table.concat(fields, ' ') .. '|' .. wait_ms
local before = r[counted] or ''
if before == now then return 0 end
local q, qd = ARGV[5] .. ':', ARGV[7] .. ':'
local core = {offered = 1, answered = 1, abandoned = 1, missed = 1, calls = 1,
              calls_answered = 1, wait_ms = 1}
local function bump(key, field, n)
  -- A counter back at zero is dropped: a hash stays small enough to be packed.
  if redis.call('HINCRBY', key, field, n) == 0 then redis.call('HDEL', key, field) end
end
local function add(f, n)
  if core[f] or string.sub(f, 1, 7) == 'within:' then
    bump(KEYS[2], q .. f, n)
  else
    bump(KEYS[3], qd .. f, n)
    bump(KEYS[4], f, n)
  end
end
if before ~= '' then
  local taken, waited_before = string.match(before, '^(.*)|(%d+)$')
  for f in string.gmatch(taken or '', '%S+') do add(f, -1) end
  local took = tonumber(waited_before) or 0
  -- Redis refuses "-0" as an integer: take back only a wait there was.
  if took > 0 then add('wait_ms', -took) end
end
for _, f in ipairs(fields) do add(f, 1) end
if wait_ms > 0 then add('wait_ms', wait_ms) end
redis.call('HSET', KEYS[1], counted, now)
for i = 2, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
end
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[6])
return 1
"""


# Let go of the recount lock only if it is still ours (a recount that ran past
# the lock's time must not free the next process's).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def day_of(moment: float) -> int:
    """The start of MOMENT's UTC day."""
    return int(moment // DAY) * DAY


def tally_key(block: int) -> str:
    return f"contacts:tally:{VERSION}:core:{block}"


def detail_key(hour: int) -> str:
    return f"contacts:tally:{VERSION}:detail:{hour}"


def day_detail_key(day: int) -> str:
    return f"contacts:tally:{VERSION}:day:{day}"


class Tallies:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self._redis = client
        # A day's tallies outlive the last contact that started in it.
        self._ttl = retention_seconds + DAY
        self._recount = client.register_script(_RECOUNT)
        self._release = client.register_script(_RELEASE)

    def recount(
        self, contact_key: str, started: float, pipe: redis.client.Pipeline | None = None
    ) -> None:
        """Bring the tallies of the contact at CONTACT_KEY (which started at
        STARTED) in line with what is stored now; in PIPE when given, after
        the write that changed it."""
        day = day_of(started)
        block = int(started // BLOCK) * BLOCK
        hour = int(started // HOUR) * HOUR
        self._recount(
            keys=[contact_key, tally_key(block), detail_key(hour), day_detail_key(day), DAYS],
            args=[
                self._ttl,
                ",".join(ANSWERED),
                ",".join(ABANDONED),
                ",".join(str(s) for s in SERVICE_LEVEL_SECONDS),
                int((started - block) // QUARTER),
                day,
                int((started - hour) // QUARTER),
                VERSION,
            ],
            client=pipe if pipe is not None else self._redis,
        )

    def _days(self, start: float, end: float) -> list[int]:
        found = self._redis.zrangebyscore(DAYS, day_of(start), f"({end}")
        return [int(float(text(day))) for day in found]

    def core_between(self, start: float, end: float) -> Iterator[tuple[int, str, int]]:
        """(quarter start, core counter, count) for every quarter in [START,
        END) with a count; a range not on quarters takes the quarters that
        start in it."""
        blocks = [
            block
            for day in self._days(start, end)
            for block in range(day, day + DAY, BLOCK)
            if block + BLOCK > start and block < end
        ]
        yield from self._quarters(blocks, tally_key, start, end)

    def detail_between(self, start: float, end: float) -> Counter[str]:
        """The detail counters of the contacts that started in [START, END):
        the day totals of the days wholly inside, the hours of the rest."""
        whole: list[int] = []
        hours: list[int] = []
        for day in self._days(start, end):
            if start <= day and day + DAY <= end:
                whole.append(day)
            else:
                hours += [h for h in range(day, day + DAY, HOUR) if h + HOUR > start and h < end]
        pipe = self._redis.pipeline(transaction=False)
        for day in whole:
            pipe.hgetall(day_detail_key(day))
        total: Counter[str] = Counter()
        for raw in pipe.execute():
            total.update({text(k): int(v) for k, v in raw.items()})
        for _, name, count in self._quarters(hours, detail_key, start, end):
            total[name] += count
        return +total

    def _quarters(
        self, starts: list[int], key: Callable[[int], str], start: float, end: float
    ) -> Iterator[tuple[int, str, int]]:
        """(quarter start, counter, count) from the hashes KEY(s) for STARTS,
        whose fields are `<quarter after s>:<counter>`, for the quarters in
        [START, END)."""
        pipe = self._redis.pipeline(transaction=False)
        for first in starts:
            pipe.hgetall(key(first))
        for first, raw in zip(starts, pipe.execute(), strict=True):
            for field, count in raw.items():
                quarter, _, name = field.partition(b":")
                moment = first + int(quarter) * QUARTER
                if start <= moment < end:
                    yield moment, name.decode(), int(count)

    def forget_before(self, moment: float, pipe: redis.client.Pipeline) -> None:
        """Drop days before MOMENT's from the index (their tallies expire)."""
        pipe.zremrangebyscore(DAYS, 0, day_of(moment) - 1)

    def current(self) -> bool:
        """Whether every kept contact is counted under this VERSION."""
        return bool(self._redis.exists(f"{TALLIED}:{VERSION}"))

    def ensure(self, contacts: Iterable[tuple[str, float]]) -> bool:
        """Every kept contact (key, started) counted under this VERSION: run
        once, after an upgrade, by whoever reads a report first. True when
        it recounted."""
        if self.current():
            return False
        lock, token = f"{TALLIED}:{VERSION}:recounting", secrets.token_hex(8)
        if not self._redis.set(lock, token, nx=True, ex=RECOUNT_LOCK_SECONDS):
            return False  # another process is at it: this report reads what is counted so far
        try:
            self.recount_all(contacts)
            self._redis.set(f"{TALLIED}:{VERSION}", 1)
        finally:
            self._release(keys=[lock], args=[token])
        return True

    def recount_all(self, contacts: Iterable[tuple[str, float]]) -> None:
        """Recount each contact (key, started), BATCH per round trip."""
        batch: list[tuple[str, float]] = []
        for contact in contacts:
            batch.append(contact)
            if len(batch) == BATCH:
                self._recount_batch(batch)
                batch = []
        self._recount_batch(batch)

    def _recount_batch(self, batch: list[tuple[str, float]]) -> None:
        if not batch:
            return
        pipe = self._redis.pipeline(transaction=False)
        for key, started in batch:
            self.recount(key, started, pipe)
        pipe.execute()
