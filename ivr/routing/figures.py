"""The line's figures, per day (UTC): calls offered to counselors, answered
(and how long callers waited first), abandoned while waiting, and those no
counselor took; answers per counselor. They feed /metrics and the admin."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from ivr.platform.redis_store import decoded

KEEP_DAYS = 400


def day_of(moment: float | None = None) -> str:
    return datetime.fromtimestamp(moment or time.time(), UTC).strftime("%Y-%m-%d")


class Figures:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def _bump(
        self,
        fields: dict[str, float],
        counselor: str | None = None,
        within: redis.client.Pipeline | None = None,
    ) -> None:
        """`within`: a pipeline of the caller's that carries the counts (and
        executes them with its own commands); else they go in one of their own."""
        key = f"stats:{day_of()}"
        pipe = within if within is not None else self._redis.pipeline(transaction=True)
        for name, amount in fields.items():
            pipe.hincrbyfloat(key, name, amount)
        if counselor:
            pipe.hincrby(f"{key}:answered_by", counselor, 1)
            pipe.expire(f"{key}:answered_by", KEEP_DAYS * 86400)
        pipe.expire(key, KEEP_DAYS * 86400)
        if within is None:
            pipe.execute()

    def offered(self, within: redis.client.Pipeline | None = None) -> None:
        self._bump({"offered": 1}, within=within)

    def answered(self, waited_seconds: float, counselor: str) -> None:
        self._bump({"answered": 1, "answer_wait_seconds": waited_seconds}, counselor)

    def abandoned(self, waited_seconds: float) -> None:
        self._bump({"abandoned": 1, "abandon_wait_seconds": waited_seconds})

    def gave_up(self) -> None:
        self._bump({"unanswered": 1})

    def day(self, day: str) -> DayFigures:
        raw = decoded(self._redis.hgetall(f"stats:{day}"))
        by = decoded(self._redis.hgetall(f"stats:{day}:answered_by"))
        return DayFigures(
            day=day,
            offered=int(float(raw.get("offered", 0))),
            answered=int(float(raw.get("answered", 0))),
            abandoned=int(float(raw.get("abandoned", 0))),
            unanswered=int(float(raw.get("unanswered", 0))),
            answer_wait_seconds=float(raw.get("answer_wait_seconds", 0)),
            answered_by={k: int(v) for k, v in by.items()},
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
