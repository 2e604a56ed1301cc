"""Call queues, as Twilio keeps them: a queue per name (made by the first
`<Enqueue>` or by REST), up to `max_size` callers (default 1000, at most
5000) in arrival order, and the bridge a `<Dial><Queue>` makes with the
first of them. A queue stays, empty or not, until a REST DELETE removes it,
which Twilio refuses while callers wait in it.

Resources follow `api.v2010.account.queue` and `api.v2010.account.queue.member`
in twilio/twilio-oai (spec/json/twilio_api_v2010.json): `QU…` SIDs,
`current_size`, `average_wait_time`, `max_size` as integers, RFC 2822 dates;
a member has `call_sid`, `date_enqueued`, `position` (1-based), `wait_time`,
`queue_sid`, `uri`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from twilio_emulator.ids import API_VERSION, new_sid, now, rfc2822
from twilio_emulator.phonebook import Performer
from twilio_emulator.records import CallRecord
from twilio_emulator.twiml import End, Goto, Outcome

DEFAULT_MAX_SIZE = 1000
LARGEST_MAX_SIZE = 5000
MAX_NAME = 64


class Party(Protocol):
    """What a queue and its bridges need of a call leg in them (legs.CallLeg):
    passed in, as the legs' network holds the queues."""

    record: CallRecord
    performer: Performer

    def wake(self) -> None: ...

    def take_update(self) -> Outcome: ...

    def wait_on(self, ready: Callable[[], bool], seconds: float) -> None: ...

    def elapse(self, seconds: float) -> None: ...

    def deliver(self, update: Goto | End) -> None: ...


@dataclass
class Bridge:
    """Two legs talking: the dequeued caller's and the dequeuer's. Whoever ends
    it (a hang-up, a REST update, the talk time running out) ends it for both."""

    caller: Party
    dequeuer: Party
    queue_sid: str
    queue_time: int
    whisper: Goto | None
    talk_limit: float | None = None  # real seconds until `ender` hangs up, if known
    deadline: float | None = None
    ender: str = "dequeuer"  # who hangs up at the deadline: "caller" | "dequeuer"
    virtual_talk: float = 0.0  # seconds of talk added to both legs' clocks
    connected: threading.Event = field(default_factory=threading.Event)
    failed: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    ended_by: str = ""
    started: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self) -> None:
        self.started = time.monotonic()
        if self.talk_limit is not None:
            self.deadline = self.started + self.talk_limit
        self.connected.set()
        self.dequeuer.wake()

    def fail(self) -> None:
        """The caller went away before the two were connected."""
        self.failed.set()
        self.dequeuer.wake()

    def end(self, by: str) -> None:
        with self._lock:
            if self.ended.is_set():
                return
            self.ended_by = by
            self.ended.set()
        self.caller.wake()
        self.dequeuer.wake()

    def talked(self) -> int:
        if not self.started:
            return 0
        return round(max(self.virtual_talk, time.monotonic() - self.started))


@dataclass
class Member:
    leg: Party
    queue: Queue
    entered: float = field(default_factory=time.monotonic)
    date_enqueued: datetime = field(default_factory=now)
    bridge: Bridge | None = None
    left: float | None = None  # when it left the queue

    @property
    def call_sid(self) -> str:
        return self.leg.record.sid

    def wait_time(self) -> int:
        return int((self.left or time.monotonic()) - self.entered)


@dataclass
class Queue:
    account_sid: str
    friendly_name: str
    max_size: int = DEFAULT_MAX_SIZE
    sid: str = field(default_factory=lambda: new_sid("QU"))
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    members: list[Member] = field(default_factory=list)

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Queues/{self.sid}.json"

    def average_wait(self) -> int:
        if not self.members:
            return 0
        return round(sum(m.wait_time() for m in self.members) / len(self.members))

    def position(self, member: Member) -> int:
        return self.members.index(member) + 1 if member in self.members else 0

    def resource(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "average_wait_time": self.average_wait(),
            "current_size": len(self.members),
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "friendly_name": self.friendly_name,
            "max_size": self.max_size,
            "sid": self.sid,
            "uri": self.uri(),
        }

    def member_resource(self, member: Member) -> dict[str, Any]:
        return {
            "call_sid": member.call_sid,
            "date_enqueued": rfc2822(member.date_enqueued),
            "position": self.position(member),
            "queue_sid": self.sid,
            "uri": (
                f"/{API_VERSION}/Accounts/{self.account_sid}/Queues/{self.sid}"
                f"/Members/{member.call_sid}.json"
            ),
            "wait_time": member.wait_time(),
        }

    def wait_params(self, member: Member) -> dict[str, str]:
        """What Twilio adds to each waitUrl request."""
        return {
            "QueuePosition": str(self.position(member)),
            "QueueSid": self.sid,
            "QueueTime": str(member.wait_time()),
            "AvgQueueTime": str(self.average_wait()),
            "CurrentQueueSize": str(len(self.members)),
            "MaxQueueSize": str(self.max_size),
        }


class QueueBook:
    """Every queue of the account; one lock for all of them, so that taking
    the first caller is atomic however many dequeuers try at once."""

    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self.lock = threading.RLock()
        self._queues: dict[str, Queue] = {}

    def create(self, name: str, max_size: int = DEFAULT_MAX_SIZE) -> Queue:
        with self.lock:
            queue = Queue(self.account_sid, name, max_size)
            self._queues[queue.sid] = queue
            return queue

    def named(self, name: str) -> Queue | None:
        with self.lock:
            return next((q for q in self._queues.values() if q.friendly_name == name), None)

    def get(self, sid: str) -> Queue | None:
        with self.lock:
            return self._queues.get(sid)

    def all(self) -> list[Queue]:
        with self.lock:
            return list(self._queues.values())

    def delete(self, sid: str) -> str:
        """Delete a queue by REST: "deleted", "gone" (no such queue), or "busy"
        (callers wait in it: Twilio's "Only empty queues are deletable"). A
        queue is never deleted otherwise, however long it stays idle: "Queues
        persist" (docs/voice/api/queue-resource)."""
        with self.lock:
            queue = self._queues.get(sid)
            if queue is None:
                return "gone"
            if queue.members:
                return "busy"
            del self._queues[sid]
            return "deleted"

    def join(self, name: str, leg: Party) -> tuple[Queue, Member | None]:
        """Put a leg at the back of the named queue (made on first use); no
        member when the queue is full."""
        with self.lock:
            queue = self.named(name) or self.create(name)
            if len(queue.members) >= queue.max_size:
                return queue, None
            member = Member(leg, queue)
            queue.members.append(member)
            queue.date_updated = now()
            return queue, member

    def leave(self, member: Member) -> bool:
        """Take a member out (it left, hung up, was redirected); False if it was
        no longer there (a dequeuer took it first)."""
        with self.lock:
            queue = member.queue
            if member not in queue.members or member.bridge is not None:
                return False
            queue.members.remove(member)
            queue.date_updated = now()
            member.left = time.monotonic()
            return True

    def take_first(self, queue: Queue, bridge: Callable[[Member], Bridge]) -> Member | None:
        """The first caller waiting, taken out with the bridge made for it."""
        with self.lock:
            if not queue.members:
                return None
            member = queue.members.pop(0)
            queue.date_updated = now()
            member.left = time.monotonic()
            member.bridge = bridge(member)
            return member

    def find_member(self, queue: Queue, call_sid: str) -> Member | None:
        with self.lock:
            if call_sid == "Front":
                return queue.members[0] if queue.members else None
            return next((m for m in queue.members if m.call_sid == call_sid), None)

    def clear(self) -> None:
        with self.lock:
            self._queues.clear()

    def inspect(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {**q.resource(), "members": [q.member_resource(m) for m in q.members]}
                for q in self._queues.values()
            ]


def plan(performer: Performer) -> tuple[str, float | None]:
    """How a phone means to end a bridge: a person decides, a script's `talk`
    step says when, or it has no plan."""
    if performer.phone is not None:
        return "person", None
    step = performer.take("talk")
    return ("talk", step.seconds) if step is not None else ("none", None)


def make_bridge(caller: Party, dequeuer: Party, queue: Queue, whisper: Goto | None) -> Bridge:
    """The bridge for a caller just taken from `queue`; who will hang up first
    is settled now, from both phones' scripts."""
    bridge = Bridge(caller, dequeuer, queue.sid, 0, whisper)
    plans = {"caller": plan(caller.performer), "dequeuer": plan(dequeuer.performer)}
    talks = sorted((s or 0.0, side) for side, (kind, s) in plans.items() if kind == "talk")
    if talks:
        bridge.talk_limit, bridge.ender = talks[0]
    elif all(kind == "none" for kind, _ in plans.values()):
        # Neither side says: the dequeuer talks its script's talk_seconds, in virtual time.
        bridge.talk_limit, bridge.ender = 0.0, "dequeuer"
        bridge.virtual_talk = float(dequeuer.performer.script.talk_seconds)
    return bridge


def talk(leg: Party, bridge: Bridge, side: str) -> tuple[bool, Outcome]:
    """Stay bridged until someone hangs up. Returns whether this side did, and
    the REST update that ended it for this side, if one did."""
    phone = leg.performer.phone
    update: Outcome = None
    while not bridge.ended.is_set():
        if bridge.deadline is not None and time.monotonic() >= bridge.deadline:
            bridge.end(bridge.ender)
            break
        update = leg.take_update()
        if update is not None or (phone is not None and phone.take("hangup") is not None):
            bridge.end(side)
            break
        remaining = 1.0 if bridge.deadline is None else bridge.deadline - time.monotonic()
        leg.wait_on(
            lambda: bridge.ended.is_set() or (phone is not None and phone.wants_hangup()),
            min(1.0, remaining),
        )
    leg.elapse(bridge.talked())
    return bridge.ended_by == side, update
