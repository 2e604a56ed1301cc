"""Every reading of a text or of speech, counted for review without its words:
one Redis hash per hour, `crisis:decisions:<YYYYMMDDHH>` (UTC), whose fields
are what was decided — channel, outcome, category, stage, language and the
score to a tenth — and whose values are how many times. Nothing that leads
back to a person is kept: no number, no words, no reference, and no time finer
than the hour (a decision cannot be joined to a log line). Each hour's hash
expires with the retention period."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import redis

from ivr.crisis.reader import CrisisReader, CrisisReading

DECISIONS_PREFIX = "crisis:decisions:"
HOUR = 3600
SEPARATOR = "|"


@dataclass(frozen=True)
class Decision:
    channel: str  # "sms" or "voice"
    outcome: str  # "crisis", "near" or "none"
    category: str
    stage: str
    language: str
    score: str  # to a tenth: "0.3"

    def field(self) -> str:
        return SEPARATOR.join(
            (self.channel, self.outcome, self.category, self.stage, self.language, self.score)
        )


def hour_key(moment: float) -> str:
    return DECISIONS_PREFIX + time.strftime("%Y%m%d%H", time.gmtime(moment))


class Decisions:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self.redis = client
        self.retention = retention_seconds

    @staticmethod
    def of(reading: CrisisReading, channel: str) -> Decision:
        return Decision(
            channel=channel,
            outcome=reading.outcome,
            category=reading.category or "",
            stage=reading.stage.value,
            language=reading.language or "",
            score=f"{int(reading.confidence * 10) / 10:.1f}",
        )

    def record(
        self, reading: CrisisReading, channel: str, *, within: redis.client.Pipeline | None = None
    ) -> None:
        """Count one reading (in WITHIN, a pipeline its caller runs, if given)."""
        key = hour_key(time.time())
        pipe = within if within is not None else self.redis.pipeline(transaction=False)
        pipe.hincrby(key, self.of(reading, channel).field(), 1)
        pipe.expire(key, self.retention)
        if within is None:
            pipe.execute()

    def read(
        self, reader: CrisisReader, words: str, language: str, channel: str, *, learned: bool = True
    ) -> CrisisReading:
        """READER's reading of WORDS, counted here (never the words)."""
        reading = reader.read(words, language, learned=learned)
        self.record(reading, channel)
        return reading

    def counts(self, hours: int = 24, now: float | None = None) -> Counter[Decision]:
        """How many of each decision in the last HOURS hours."""
        moment = time.time() if now is None else now
        return self._counted([hour_key(moment - back * HOUR) for back in range(hours)])

    def between(self, start: float, end: float) -> Counter[Decision]:
        """How many of each decision in the UTC hours from START to END (a
        report's range: an hour is the finest it was kept)."""
        hours = range(int(start // HOUR), int((end - 1) // HOUR) + 1)
        return self._counted([hour_key(hour * HOUR) for hour in hours])

    def _counted(self, keys: list[str]) -> Counter[Decision]:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        found: Counter[Decision] = Counter()
        for fields in pipe.execute():
            for raw, count in fields.items():
                parts = (raw.decode() if isinstance(raw, bytes) else str(raw)).split(SEPARATOR)
                if len(parts) == 6:
                    found[Decision(*parts)] += int(count)
        return found
