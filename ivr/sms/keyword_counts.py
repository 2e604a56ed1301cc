"""Texts counted by the keyword they asked for (as read, a retried
webhook's too, as the crisis decisions are), per UTC hour, for the reports
(issue 20): `sms:keywords:<YYYYMMDDHH>`, keyword id -> count. No
number, no words; each hour's hash expires with the retention period."""

from __future__ import annotations

import time
from collections import Counter

import redis

PREFIX = "sms:keywords:"
HOUR = 3600


def _key(moment: float) -> str:
    return PREFIX + time.strftime("%Y%m%d%H", time.gmtime(moment))


class KeywordCounts:
    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self._redis = client
        self._ttl = retention_seconds

    def count(self, keyword_id: str, *, within: redis.client.Pipeline) -> None:
        """Count a text that asked for KEYWORD_ID, in WITHIN, a pipeline its
        caller runs anyway (the webhook's first round trip: no new one)."""
        key = _key(time.time())
        within.hincrby(key, keyword_id, 1)
        within.expire(key, self._ttl)

    def between(self, start: float, end: float) -> Counter[str]:
        pipe = self._redis.pipeline(transaction=False)
        for hour in range(int(start // HOUR), int((end - 1) // HOUR) + 1):
            pipe.hgetall(_key(hour * HOUR))
        found: Counter[str] = Counter()
        for fields in pipe.execute():
            for raw, count in fields.items():
                found[raw.decode() if isinstance(raw, bytes) else str(raw)] += int(count)
        return found
