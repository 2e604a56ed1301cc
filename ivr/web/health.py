"""/healthz: is Redis reachable, is a worker alive. No auth, no secrets.

One Redis command (a script reading the workers' heartbeats, ivr/platform/heartbeat.py):
the web's Redis client gives up after `redis_timeout_seconds`, so even a dead
Redis is reported within a second.
"""

from __future__ import annotations

import redis
from flask import Blueprint, Response, jsonify

from ivr.platform import heartbeat
from ivr.web.current import helpline

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        workers = heartbeat.alive(helpline().redis)
    except redis.RedisError:
        return _answer(503, redis="unreachable", workers=None, reason="Redis does not answer")
    if not workers:
        # Without a worker no text goes out and no counselor is rung: not healthy.
        reason = f"no worker heartbeat in the last {heartbeat.FRESH_SECONDS} s"
        return _answer(503, redis="ok", workers=0, reason=reason)
    return _answer(200, redis="ok", workers=workers)


def _answer(status: int, **body: object) -> tuple[Response, int]:
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"  # a proxy must not answer for us
    return response, status
