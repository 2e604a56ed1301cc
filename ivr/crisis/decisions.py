"""Every reading of a text or of speech, recorded for review without its words:
`crisis:decisions`, a Redis stream of what was decided, by which stage, with
which score, in which category and language, and on which channel. Nothing
that leads back to a person (no number, no words, no reference) is kept, so
the figures can be read by anyone who reviews the reader; entries older than
the retention period are trimmed as new ones arrive."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import redis

from ivr.crisis.reader import CrisisReading

DECISIONS_KEY = "crisis:decisions"
MOST_KEPT = 200_000  # a busy line's month of texts and speech: the stream's bound


@dataclass(frozen=True)
class Decision:
    at: float
    channel: str  # "sms" or "voice"
    outcome: str  # "crisis", "near" or "none"
    category: str
    stage: str
    score: float
    language: str


class Decisions:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self.redis = client
        self.retention = retention_seconds

    def fields(self, reading: CrisisReading, channel: str) -> dict[str, str]:
        return {
            "channel": channel,
            "outcome": reading.outcome,
            "category": reading.category or "",
            "stage": reading.stage.value,
            "score": f"{reading.confidence:.3f}",
            "language": reading.language or "",
        }

    def record(
        self, reading: CrisisReading, channel: str, pipe: redis.client.Pipeline | None = None
    ) -> None:
        """Add one decision (to PIPE, when the caller is writing a transaction)."""
        oldest = int((time.time() - self.retention) * 1000)
        target = pipe if pipe is not None else self.redis
        target.xadd(
            DECISIONS_KEY,
            self.fields(reading, channel),  # type: ignore[arg-type]
            minid=oldest,
            approximate=True,
        )
        target.xtrim(DECISIONS_KEY, maxlen=MOST_KEPT, approximate=True)
        target.expire(DECISIONS_KEY, self.retention)

    def recent(self, count: int = 1000) -> list[Decision]:
        decisions = []
        entries: list[tuple[bytes, dict[bytes, bytes]]] = self.redis.xrevrange(  # type: ignore[assignment]
            DECISIONS_KEY, count=count
        )
        for entry_id, raw in entries:
            fields = {k.decode(): v.decode() for k, v in raw.items()}
            decisions.append(
                Decision(
                    at=int(entry_id.decode().split("-")[0]) / 1000,
                    channel=fields.get("channel", ""),
                    outcome=fields.get("outcome", ""),
                    category=fields.get("category", ""),
                    stage=fields.get("stage", ""),
                    score=float(fields.get("score", "0") or 0),
                    language=fields.get("language", ""),
                )
            )
        return decisions

    def summary(self, count: int = 10_000) -> Counter[tuple[str, str, str, str]]:
        """(channel, outcome, category, stage) -> how many, of the last COUNT."""
        return Counter((d.channel, d.outcome, d.category, d.stage) for d in self.recent(count))
