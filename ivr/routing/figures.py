"""The line's figures, per day: calls offered to counselors, answered (and how
long callers waited first), abandoned while waiting, and those no counselor
took; answers per counselor. They feed /metrics and the admin.

A day is the line's own local date, in its time zone (`Settings.timezone`,
HELPLINE_TIMEZONE), as in the reports: a call at 23:30 in New York counts on
that day, not on the next UTC one. A day across a DST change is still one key,
`stats:<YYYY-MM-DD>` of its local date (23 or 25 hours of calls)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from ivr.platform.redis_store import decoded

KEEP_DAYS = 400


def day_of(moment: float | None = None, *, zone_name: str) -> str:
    """The local date (YYYY-MM-DD) in ZONE_NAME (an IANA name, the line's
    `Settings.timezone`) of MOMENT, a Unix time; now when None."""
    at = time.time() if moment is None else moment
    return datetime.fromtimestamp(at, ZoneInfo(zone_name)).strftime("%Y-%m-%d")


class Figures:
    """The figures of a line whose days are local dates in ZONE_NAME (an IANA
    name: the line's `Settings.timezone`)."""

    def __init__(self, client: redis.Redis, zone_name: str) -> None:
        ZoneInfo(zone_name)  # an unknown zone fails here, not at the first count
        self._redis = client
        self.zone_name = zone_name

    def _bump(
        self,
        fields: dict[str, float],
        counselor: str | None = None,
        within: redis.client.Pipeline | None = None,
        at: float | None = None,
        answers: int = 1,
    ) -> None:
        """`within`: a pipeline of the caller's that carries the counts (and
        executes them with its own commands); else they go in one of their own.
        `at`: when it happened (a Unix time); now when None. ANSWERS: what the
        COUNSELOR's answers change by."""
        key = f"stats:{day_of(at, zone_name=self.zone_name)}"
        pipe = within if within is not None else self._redis.pipeline(transaction=True)
        for name, amount in fields.items():
            pipe.hincrbyfloat(key, name, amount)
        if counselor:
            pipe.hincrby(f"{key}:answered_by", counselor, answers)
            pipe.expire(f"{key}:answered_by", KEEP_DAYS * 86400)
        pipe.expire(key, KEEP_DAYS * 86400)
        if within is None:
            pipe.execute()

    # `at` on each count: when it happened (a Unix time), for tests; the line
    # counts everything as it happens (now).

    def offered(
        self, within: redis.client.Pipeline | None = None, *, at: float | None = None
    ) -> None:
        self._bump({"offered": 1}, within=within, at=at)

    def answered(self, waited_seconds: float, counselor: str, *, at: float | None = None) -> None:
        self._bump({"answered": 1, "answer_wait_seconds": waited_seconds}, counselor, at=at)

    def abandoned(self, waited_seconds: float, *, at: float | None = None) -> None:
        self._bump({"abandoned": 1, "abandon_wait_seconds": waited_seconds}, at=at)

    def gave_up(self, *, at: float | None = None) -> None:
        self._bump({"unanswered": 1}, at=at)

    def not_bridged(
        self, waited_seconds: float, counselor: str, *, hung_up: bool, at: float
    ) -> None:
        """A call counted answered at the counselor's press (AT, after
        WAITED_SECONDS) whose bridge never came: taken back from answered on
        the day it was counted, and counted abandoned (the caller HUNG_UP
        while being connected) or unanswered instead."""
        fields = {"answered": -1.0, "answer_wait_seconds": -waited_seconds}
        if hung_up:
            fields |= {"abandoned": 1.0, "abandon_wait_seconds": waited_seconds}
        else:
            fields |= {"unanswered": 1.0}
        self._bump(fields, counselor, at=at, answers=-1)

    def day(self, day: str) -> DayFigures:
        """The figures of DAY, a local date (YYYY-MM-DD) in the line's zone."""
        raw = decoded(self._redis.hgetall(f"stats:{day}"))
        by = decoded(self._redis.hgetall(f"stats:{day}:answered_by"))
        return DayFigures(
            day=day,
            offered=int(float(raw.get("offered", 0))),
            answered=int(float(raw.get("answered", 0))),
            abandoned=int(float(raw.get("abandoned", 0))),
            unanswered=int(float(raw.get("unanswered", 0))),
            answer_wait_seconds=float(raw.get("answer_wait_seconds", 0)),
            answered_by={k: int(v) for k, v in by.items() if int(v)},  # 0: taken back
        )


@dataclass(frozen=True)
class DayFigures:
    day: str
    offered: int
    answered: int
    abandoned: int
    unanswered: int
    answer_wait_seconds: float
    answered_by: dict[str, int]

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.offered if self.offered else None

    @property
    def average_speed_of_answer(self) -> float | None:
        return self.answer_wait_seconds / self.answered if self.answered else None

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None
