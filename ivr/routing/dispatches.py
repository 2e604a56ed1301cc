"""A caller waiting for a counselor: one dispatch, a small state machine in
Redis whose every transition is one Lua script, so webhooks arriving together
(two counselors pressing 1, a late status callback, a hang-up) can never leave
it half-changed or bridge twice.

    waiting ──ring──▶ ringing ──a counselor presses 1──▶ bridged
       │                 │
       └──────┬──────────┘
              ├─ the caller hangs up ──────────────▶ abandoned
              ├─ nobody on call / all passed / max hold ─▶ gave_up
              └─ the caller chose to leave a message ─▶ left

Each counselor leg: ringing → whisper → accepted | declined | ended.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import redis

from ivr.platform.redis_store import decoded, text

OPEN_STATES = ("waiting", "ringing")
COUNSELOR_TAKEN = ""  # add_leg: this counselor is with another caller
LIVE_LEGS = ("ringing", "whisper")
DEADLINES = "dispatch:deadlines"  # id -> when it must be looked at again
BUSY = "counselors:busy"  # counselor id -> when they were bridged (a helpline call)
BUSY_FOR_AT_MOST = 4 * 3600
# A counselor's call normally reports its end within a second of the
# conversation's; if that status callback is lost, they are free after this.
HANGUP_GRACE_SECONDS = 5
LIVE = "dispatches:live"  # id -> when opened: callers waiting, and conversations not yet over
# id -> when it became urgent: callers whose words read as a crisis, rung first
URGENT = "dispatches:urgent"
# counselor id -> "<until> <dispatch id> <leg id>": the counselor's phone is ringing (or
# whispering) for that caller, so no other caller's dispatch rings it meanwhile. `until`
# only guards against a leg whose end never came (a lost status callback).
RINGING = "counselors:ringing"
RINGING_FOR_AT_MOST = 120

_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'ringing' and state ~= 'waiting' then return state or 'gone' end
local leg = redis.call('HGET', KEYS[2], ARGV[1])
if leg ~= 'ringing' and leg ~= 'whisper' then return 'leg-over' end
redis.call('HSET', KEYS[2], ARGV[1], 'accepted')
redis.call('HSET', KEYS[1], 'state', 'bridged', 'winner', ARGV[1], 'answered_at', ARGV[2])
-- Busy from this moment, and no longer merely rung: in one step, so no other
-- caller's ring slips in between.
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
local held = redis.call('HGET', KEYS[3], ARGV[3])
if held and string.match(held, '^%S+ (%S+ %S+)$') == ARGV[4] then
  redis.call('HDEL', KEYS[3], ARGV[3])
end
return 'won'
"""

_LEG_END = """
local leg = redis.call('HGET', KEYS[2], ARGV[1])
if leg ~= 'ringing' and leg ~= 'whisper' then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local held = redis.call('HGET', KEYS[3], ARGV[3])
if held and string.match(held, '^%S+ (%S+ %S+)$') == ARGV[4] then
  redis.call('HDEL', KEYS[3], ARGV[3])
end
local live = 0
for _, value in ipairs(redis.call('HVALS', KEYS[2])) do
  if value == 'ringing' or value == 'whisper' then live = live + 1 end
end
return live
"""

_FINISH = """
local dispatch_key = KEYS[1]
local outcome, ended_at, why = ARGV[1], ARGV[2], ARGV[3]
local state = redis.call('HGET', dispatch_key, 'state')
if state ~= 'ringing' and state ~= 'waiting' then return 0 end
redis.call('HSET', dispatch_key, 'state', outcome, 'ended_at', ended_at)
if why ~= '' then redis.call('HSET', dispatch_key, 'why', why) end
return 1
"""

_ADD_LEG = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'ringing' and state ~= 'waiting' then return 0 end
if ARGV[5] == '1' then
  for _, value in ipairs(redis.call('HVALS', KEYS[2])) do
    if value == 'ringing' or value == 'whisper' then return 0 end
  end
end
-- The counselor is talking to, or being rung for, another caller: not this one.
local since = redis.call('ZSCORE', KEYS[6], ARGV[2])
if since and tonumber(since) > tonumber(ARGV[9]) then return -1 end
local held = redis.call('HGET', KEYS[5], ARGV[2])
if held then
  local until_, owner = string.match(held, '^(%S+) (%S+) %S+$')
  if owner ~= ARGV[8] and tonumber(until_) > tonumber(ARGV[6]) then return -1 end
end
redis.call('HSET', KEYS[5], ARGV[2], ARGV[7] .. ' ' .. ARGV[8] .. ' ' .. ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], 'ringing')
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[1], 'state', 'ringing')
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('SADD', KEYS[4], ARGV[2])
for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return 1
"""

# KEYS: the call's pointer, the new dispatch; ARGV: new id, ttl, fields (JSON).
# The call's open dispatch if it has one, else the new one: never two at once.
_OPEN = """
local current = redis.call('GET', KEYS[1])
if current then
  local state = redis.call('HGET', 'dispatch:' .. current, 'state')
  if state == 'waiting' or state == 'ringing' then return {current, 0} end
end
local fields = cjson.decode(ARGV[3])
for name, value in pairs(fields) do redis.call('HSET', KEYS[2], name, tostring(value)) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[3], fields['created'], ARGV[1])
return {ARGV[1], 1}
"""

# KEYS: busy counselors, live dispatches, the dispatch. ARGV: counselor, id, now,
# and '' to free the counselor now (their phone hung up), else the busy score
# that frees them a few seconds from now (the call ended; their phone not yet):
# only ever earlier than their current one, never re-adding one already freed.
# One step, and never a stray hash for a dispatch that has already expired.
_OVER = """
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  local bridged = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if bridged and tonumber(ARGV[4]) < tonumber(bridged) then
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  end
end
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSETNX', KEYS[3], 'ended_at', ARGV[3]) end
return 1
"""

_WHISPER = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'ringing' and state ~= 'waiting' then return state or 'gone' end
local leg = redis.call('HGET', KEYS[2], ARGV[1])
if leg == 'ringing' then redis.call('HSET', KEYS[2], ARGV[1], 'whisper') end
if leg == 'ringing' or leg == 'whisper' then return 'whisper' end
return 'leg-over'
"""


@dataclass(frozen=True)
class Dispatch:
    id: str
    call_sid: str
    caller: str
    language: str
    state: str
    created: float
    round: int
    winner: str
    answered_at: float | None
    node: str  # the counselor node the caller chose: its next and voicemail say where to go
    ended_at: float | None = None
    urgent: bool = False  # the caller's words read as a crisis: rung ahead of everyone

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def waited(self, now: float | None = None) -> int:
        return int((now or time.time()) - self.created)


@dataclass(frozen=True)
class Leg:
    id: str
    counselor: str
    call_sid: str
    state: str
    round: int


class Dispatches:
    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._claim = client.register_script(_CLAIM)
        self._leg_end = client.register_script(_LEG_END)
        self._finish = client.register_script(_FINISH)
        self._whisper = client.register_script(_WHISPER)
        self._add_leg = client.register_script(_ADD_LEG)
        self._open = client.register_script(_OPEN)
        self._over = client.register_script(_OVER)

    @staticmethod
    def _keys(dispatch_id: str) -> list[str]:
        return [f"dispatch:{dispatch_id}", f"dispatch:{dispatch_id}:legs"]

    def open_for_call(
        self, call_sid: str, caller: str, language: str, node: str, *, urgent: bool = False
    ) -> tuple[Dispatch, bool]:
        """The call's open dispatch, or a new one; True when it was just made. A
        repeated webhook finds the open one instead of starting a second."""
        now = time.time()
        candidate = hashlib.sha256(f"{call_sid}:{now}".encode()).hexdigest()[:20]
        fields = {
            "call_sid": call_sid,
            "caller": caller,
            "language": language,
            "state": "waiting",
            "created": now,
            "round": 1,
            "winner": "",
            "node": node,
        }
        if urgent:  # in the record from the start: its first ring job rings everyone
            fields["urgent"] = "1"
        chosen, made = self._open(
            keys=[f"call:{call_sid}:dispatch", f"dispatch:{candidate}", LIVE],
            args=[candidate, self._ttl, json.dumps(fields)],
        )
        dispatch_id = text(chosen)
        found = self.load(dispatch_id)
        assert found is not None  # just made or still open: it exists
        return found, bool(made)

    def mark_urgent(self, dispatch_id: str) -> bool:
        """The caller's words read as a crisis: from now on the next free
        counselor is theirs. False when the dispatch is over or gone."""
        dispatch = self.load(dispatch_id)
        if dispatch is None or not dispatch.is_open:
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(f"dispatch:{dispatch_id}", "urgent", "1")
        pipe.zadd(URGENT, {dispatch_id: time.time()}, nx=True)
        pipe.expire(URGENT, self._ttl)
        pipe.execute()
        return True

    def urgent_waiting(self) -> list[Dispatch]:
        """Urgent callers still waiting or being rung for, longest first; those
        whose wait is over are dropped from the index."""
        ids = [text(raw) for raw in self._redis.zrange(URGENT, 0, -1)]
        if not ids:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for dispatch_id in ids:
            pipe.hgetall(f"dispatch:{dispatch_id}")
        waiting, over = [], []
        for dispatch_id, fields in zip(ids, pipe.execute(), strict=True):
            dispatch = _dispatch(dispatch_id, decoded(fields))
            if dispatch is not None and dispatch.is_open:
                waiting.append(dispatch)
            else:
                over.append(dispatch_id)
        if over:
            self._redis.zrem(URGENT, *over)
        return waiting

    def load(self, dispatch_id: str) -> Dispatch | None:
        return _dispatch(dispatch_id, decoded(self._redis.hgetall(f"dispatch:{dispatch_id}")))

    # -- legs ----------------------------------------------------------------

    def add_leg(
        self, dispatch_id: str, counselor_id: str, round_number: int, *, first: bool = True
    ) -> str | None:
        """A new ringing leg, only while the dispatch is open (and, for the
        first leg of a ring, only while no other leg is live): checked and
        written in one step, so a ring racing an acceptance rings nobody.
        None then; "" (COUNSELOR_TAKEN) when the counselor is on, or being
        rung for, another caller's call — so their phone never rings twice."""
        main, legs = self._keys(dispatch_id)
        leg_id = f"{counselor_id}-{round_number}-{int(time.time() * 1000) % 100000}"
        now = time.time()
        info = json.dumps(
            {
                "counselor": counselor_id,
                "round": round_number,
                "call_sid": "",
                "started": now,
            }
        )
        added = int(
            self._add_leg(
                keys=[main, legs, f"{main}:leginfo", f"{main}:tried:{round_number}", RINGING, BUSY],
                args=[
                    leg_id,
                    counselor_id,
                    self._ttl,
                    info,
                    "1" if first else "0",
                    now,
                    now + RINGING_FOR_AT_MOST,
                    dispatch_id,
                    now - BUSY_FOR_AT_MOST,
                ],
            )
        )
        if added < 0:
            return COUNSELOR_TAKEN
        return leg_id if added else None

    def set_leg_call(self, dispatch_id: str, leg_id: str, call_sid: str) -> None:
        key = f"dispatch:{dispatch_id}:leginfo"
        info = json.loads(self._redis.hget(key, leg_id) or "{}")
        info["call_sid"] = call_sid
        self._redis.hset(key, leg_id, json.dumps(info))

    def legs(self, dispatch_id: str) -> list[Leg]:
        states = decoded(self._redis.hgetall(f"dispatch:{dispatch_id}:legs"))
        infos = decoded(self._redis.hgetall(f"dispatch:{dispatch_id}:leginfo"))
        found = []
        for leg_id, state in states.items():
            info = json.loads(infos.get(leg_id, "{}"))
            found.append(
                Leg(
                    leg_id,
                    info.get("counselor", ""),
                    info.get("call_sid", ""),
                    state,
                    int(info.get("round", 1)),
                )
            )
        return found

    def tried(self, dispatch_id: str, round_number: int) -> set[str]:
        members = self._redis.smembers(f"dispatch:{dispatch_id}:tried:{round_number}")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    def live_legs(self, dispatch_id: str) -> int:
        return sum(1 for leg in self.legs(dispatch_id) if leg.state in LIVE_LEGS)

    def drop_lost_legs(self, dispatch_id: str, older_than_seconds: float) -> int:
        """Legs whose call was never placed (their worker died before Twilio
        answered the create): no status callback will ever end them."""
        infos = decoded(self._redis.hgetall(f"dispatch:{dispatch_id}:leginfo"))
        cutoff = time.time() - older_than_seconds
        dropped = 0
        for leg in self.legs(dispatch_id):
            started = float(json.loads(infos.get(leg.id, "{}")).get("started", 0))
            never_placed = leg.state == "ringing" and not leg.call_sid and started < cutoff
            if never_placed and self.end_leg(dispatch_id, leg.id, "lost") >= 0:
                # Never rang: it does not use up this counselor's turn.
                self._redis.srem(f"dispatch:{dispatch_id}:tried:{leg.round}", leg.counselor)
                dropped += 1
        return dropped

    def next_round(self, dispatch_id: str) -> int:
        return int(self._redis.hincrby(f"dispatch:{dispatch_id}", "round", 1))

    # -- transitions (atomic) -------------------------------------------------

    def whisper(self, dispatch_id: str, leg_id: str) -> str:
        """'whisper' when the counselor may be asked; else why not."""
        return text(self._whisper(keys=self._keys(dispatch_id), args=[leg_id]))

    def claim(self, dispatch_id: str, leg_id: str) -> str:
        """'won' for exactly one leg; otherwise the state that stopped it."""
        result = text(
            self._claim(
                keys=[*self._keys(dispatch_id), RINGING, BUSY],
                args=[leg_id, time.time(), counselor_of(leg_id), f"{dispatch_id} {leg_id}"],
            )
        )
        if result == "won":  # the script marked the counselor busy, in the same step
            self._redis.zrem(DEADLINES, dispatch_id)
        return result

    def end_leg(self, dispatch_id: str, leg_id: str, how: str) -> int:
        """Mark a leg over; the number of legs still live, or -1 if it already was."""
        return int(
            self._leg_end(
                keys=[*self._keys(dispatch_id), RINGING],
                args=[leg_id, how, counselor_of(leg_id), f"{dispatch_id} {leg_id}"],
            )
        )

    def finish(self, dispatch_id: str, outcome: str, why: str = "") -> bool:
        """Close an open dispatch (abandoned, gave_up, left), with WHY for the
        operators' records (a fixed phrase); False if it was not open."""
        moved = bool(self._finish(keys=self._keys(dispatch_id), args=[outcome, time.time(), why]))
        if moved:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(DEADLINES, dispatch_id)
            pipe.zrem(LIVE, dispatch_id)
            pipe.execute()
        return moved

    def conversation_over(
        self, dispatch_id: str, counselor_id: str, *, phone_hung_up: bool = True
    ) -> None:
        """The bridged call ended: the call is no longer live, and the counselor
        is free once their phone has hung up. When only the conversation is
        known to be over (their `<Dial>` ended, their own call not yet), they
        stay engaged until their call's status says it ended, or for at most
        HANGUP_GRACE_SECONDS: a ring in that moment met their phone busy and
        used up a ring round of the next caller's."""
        now = time.time()
        hold = "" if phone_hung_up else repr(now - BUSY_FOR_AT_MOST + HANGUP_GRACE_SECONDS)
        self._over(keys=[BUSY, LIVE, f"dispatch:{dispatch_id}"],
                   args=[counselor_id, dispatch_id, now, hold])  # fmt: skip

    def live(self) -> list[Dispatch]:
        """Callers waiting or ringing, and conversations in progress, oldest
        first; entries whose record expired or that outlived any call are dropped."""
        now = time.time()
        self._redis.zremrangebyscore(LIVE, 0, now - BUSY_FOR_AT_MOST)
        ids = [text(raw) for raw in self._redis.zrange(LIVE, 0, -1)]
        # One round trip for all of them, not one each: with a thousand callers
        # waiting, a page of live calls was a thousand round trips.
        pipe = self._redis.pipeline(transaction=False)
        for dispatch_id in ids:
            pipe.hgetall(f"dispatch:{dispatch_id}")
        found: list[Dispatch] = []
        stale: list[str] = []
        for dispatch_id, fields in zip(ids, pipe.execute(), strict=True):
            dispatch = _dispatch(dispatch_id, decoded(fields))
            ended = dispatch is not None and dispatch.ended_at is not None
            if dispatch is None or dispatch.state not in (*OPEN_STATES, "bridged") or ended:
                stale.append(dispatch_id)
                continue
            found.append(dispatch)
        if stale:
            self._redis.zrem(LIVE, *stale)
        return found

    # -- deadlines and who is busy -------------------------------------------

    def set_deadline(
        self, dispatch_id: str, at: float, within: redis.client.Pipeline | None = None
    ) -> None:
        (within if within is not None else self._redis).zadd(DEADLINES, {dispatch_id: at})

    def due(self, now: float | None = None) -> list[str]:
        """Dispatches past their deadline, each taken by one sweeper only."""
        moment = time.time() if now is None else now
        taken = []
        for raw in self._redis.zrangebyscore(DEADLINES, 0, moment):
            dispatch_id = text(raw)
            if self._redis.zrem(DEADLINES, dispatch_id):
                taken.append(dispatch_id)
        return taken

    def mark_busy(self, counselor_id: str) -> None:
        """The counselor is on a helpline call that is not a dispatch (returning
        a callback): not to be rung for a waiting caller until `mark_free`."""
        self._redis.zadd(BUSY, {counselor_id: time.time()})

    def mark_free(self, counselor_id: str) -> None:
        self._redis.zrem(BUSY, counselor_id)

    def busy_counselors(self) -> set[str]:
        self._redis.zremrangebyscore(BUSY, 0, time.time() - BUSY_FOR_AT_MOST)
        return {text(m) for m in self._redis.zrange(BUSY, 0, -1)}

    def engaged_counselors(self) -> set[str]:
        """On a helpline call, or their phone ringing (or whispering) for a caller."""
        now = time.time()
        ringing = {
            text(counselor)
            for counselor, held in self._redis.hgetall(RINGING).items()
            if float(text(held).split(" ", 1)[0]) > now
        }
        return self.busy_counselors() | ringing


def _dispatch(dispatch_id: str, fields: dict[str, str]) -> Dispatch | None:
    """A dispatch from its hash's fields; None when gone or half-written."""
    if not fields.keys() >= {"call_sid", "caller", "language", "state", "created"}:
        return None  # gone, or a half-written record: nothing to act on
    answered = fields.get("answered_at")
    return Dispatch(
        id=dispatch_id,
        call_sid=fields["call_sid"],
        caller=fields["caller"],
        language=fields["language"],
        state=fields["state"],
        created=float(fields["created"]),
        round=int(fields.get("round", "1")),
        winner=fields.get("winner", ""),
        answered_at=float(answered) if answered else None,
        node=fields.get("node", ""),
        ended_at=float(fields["ended_at"]) if fields.get("ended_at") else None,
        urgent=fields.get("urgent") == "1",
    )


def counselor_of(leg_id: str) -> str:
    """The counselor id a leg id was made from (`{counselor}-{round}-{ms}`)."""
    return leg_id.rsplit("-", 2)[0]
