"""Faults on demand: the next N creates of a resource fail, stall, drop the
connection, or are accepted and then fail delivery — for the line's
reliability tests."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from twilio_emulator.errors import DELIVERY_ERRORS

Resource = Literal["messages", "calls"]
RESOURCES: tuple[Resource, ...] = ("messages", "calls")


class FaultError(ValueError):
    """A fault that cannot be injected as described."""


@dataclass(frozen=True)
class Fault:
    """What the next `count` create requests meet.

    - `code` (with optional `status`): a REST error, e.g. 20429 → 429, 21610 → 400,
      or `status=500` alone.
    - `delivery`: a delivery error code (30007…): the create succeeds and the
      message ends `undelivered`/`failed` in its status callbacks.
    - `delay`: seconds to stall before answering (combines with the others).
    - `drop`: close the connection without any response.
    """

    count: int = 1
    status: int | None = None
    code: int | None = None
    delivery: int | None = None
    delay: float = 0.0
    drop: bool = False

    def check(self, resource: Resource) -> Fault:
        if self.count < 1:
            raise FaultError("count must be 1 or more")
        if not 0 <= self.delay <= 60:
            raise FaultError("delay must be between 0 and 60 seconds")
        if self.delivery is not None:
            if resource != "messages":
                raise FaultError("delivery faults apply to messages only")
            if self.delivery not in DELIVERY_ERRORS:
                raise FaultError(f"unknown delivery error {self.delivery}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise FaultError("status must be an HTTP error status (4xx or 5xx)")
        if not (self.code or self.status or self.delivery or self.delay or self.drop):
            raise FaultError("a fault needs code, status, delivery, delay or drop")
        return self

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        known = {"count", "status", "code", "delivery", "delay", "drop"}
        unknown = set(data) - known
        if unknown:
            raise FaultError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        try:
            return cls(
                count=int(data.get("count", 1)),
                status=None if data.get("status") is None else int(data["status"]),
                code=None if data.get("code") is None else int(data["code"]),
                delivery=None if data.get("delivery") is None else int(data["delivery"]),
                delay=float(data.get("delay", 0.0)),
                drop=bool(data.get("drop", False)),
            )
        except (TypeError, ValueError) as error:
            raise FaultError(f"malformed fault: {error}") from error


class FaultPlan:
    """Faults waiting, per resource, consumed one request at a time in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[Resource, deque[Fault]] = {name: deque() for name in RESOURCES}

    def add(self, resource: Resource, fault: Fault) -> None:
        if resource == "messages" and fault.code in DELIVERY_ERRORS:
            # 30007 and friends are not create errors: the message is accepted, then fails.
            fault = replace(fault, code=None, delivery=fault.code)
        fault.check(resource)
        with self._lock:
            self._waiting[resource].append(fault)

    def take(self, resource: Resource) -> Fault | None:
        with self._lock:
            waiting = self._waiting[resource]
            if not waiting:
                return None
            fault = waiting[0]
            if fault.count <= 1:
                waiting.popleft()
            else:
                waiting[0] = replace(fault, count=fault.count - 1)
            return replace(fault, count=1)

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {name: [f.as_json() for f in faults] for name, faults in self._waiting.items()}

    def clear(self) -> None:
        with self._lock:
            for waiting in self._waiting.values():
                waiting.clear()
