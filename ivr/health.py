"""/healthz: is Redis reachable, is a worker alive. No auth, no secrets."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, jsonify
from rq import Worker

from ivr.extension import helpline

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    line = helpline()
    try:
        line.redis.ping()
        workers = len(Worker.all(connection=line.redis))
    except redis.RedisError:
        return jsonify(redis="unreachable", workers=None), 503
    # Without a worker no text goes out and no counselor is rung: not healthy.
    return jsonify(redis="ok", workers=workers), 200 if workers else 503
