"""/healthz is healthy only while Redis answers and a worker has beaten its
heart within the last few seconds; a worker writes that heartbeat."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from rq import Queue

from ivr.app import create_app
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from ivr.platform import heartbeat
from ivr.platform.config import Settings
from ivr.processes.worker import SWEEP_SECONDS, sweep_forever
from ivr.routing.dispatches import Dispatches
from ivr.sms.outbox import Outbox
from tests.conftest import RedisServer, make_settings
from tests.live import LiveLine, WorkerProcess, eventually


def redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1_000_000


def test_no_heartbeat_is_unhealthy_and_says_why(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "redis": "ok",
        "workers": 0,
        "reason": f"no worker heartbeat in the last {heartbeat.FRESH_SECONDS} s",
    }


def test_a_fresh_heartbeat_is_healthy(client: FlaskClient, redis_client: redis.Redis) -> None:
    heartbeat.beat(redis_client, "web-test:1")
    heartbeat.beat(redis_client, "web-test:2")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"redis": "ok", "workers": 2}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_stale_heartbeat_is_unhealthy(client: FlaskClient, redis_client: redis.Redis) -> None:
    # A worker killed 11 s ago (its last beat, on Redis's clock).
    stale = redis_now(redis_client) - heartbeat.FRESH_SECONDS - 1
    redis_client.zadd(heartbeat.KEY, {"killed:1": stale})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["workers"] == 0


def test_beats_long_gone_are_pruned(redis_client: redis.Redis) -> None:
    old = redis_now(redis_client) - heartbeat.FORGET_SECONDS - 1
    redis_client.zadd(heartbeat.KEY, {"gone:1": old})
    heartbeat.beat(redis_client, "alive:1")
    assert redis_client.zrange(heartbeat.KEY, 0, -1) == [b"alive:1"]
    assert 0 < redis_client.ttl(heartbeat.KEY) <= heartbeat.FORGET_SECONDS


def test_a_worker_that_stops_is_forgotten_at_once(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    heartbeat.beat(redis_client, "stopping:1")
    assert client.get("/healthz").status_code == 200
    heartbeat.forget(redis_client, "stopping:1")
    assert client.get("/healthz").status_code == 503


def test_redis_down_is_unhealthy_quickly(
    tmp_path: Path, content: Content, redis_server: RedisServer
) -> None:
    own = RedisServer(tmp_path / "own-redis")
    own.start()
    try:
        app = create_app(make_settings(own.url, tmp_path), content)
        heartbeat.beat(redis.Redis.from_url(own.url), "worker:1")
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        own.stop()
        started = time.monotonic()
        response = client.get("/healthz")
        assert time.monotonic() - started < 2
    finally:
        own.stop()
    assert response.status_code == 503
    assert response.json == {
        "redis": "unreachable",
        "workers": None,
        "reason": "Redis does not answer",
    }


def test_the_answer_holds_no_secret(client: FlaskClient, settings: Settings) -> None:
    body = client.get("/healthz").get_data(as_text=True)
    for secret in (settings.twilio_auth_token, settings.secret_key, settings.redis_url or "?"):
        assert secret not in body
    assert set(json.loads(body)) <= {"redis", "workers", "reason"}


def test_the_sweeper_beats_while_it_runs_and_forgets_when_stopped(
    redis_client: redis.Redis, settings: Settings
) -> None:
    queue = Queue(QUEUE_NAME, connection=redis_client)
    stop = threading.Event()
    sweeper = threading.Thread(
        target=sweep_forever,
        args=(
            Outbox(redis_client, queue, settings.secret_key, 600),
            Dispatches(redis_client, 600),
            queue,
            stop,
        ),
        daemon=True,
    )
    sweeper.start()
    try:
        eventually(lambda: heartbeat.alive(redis_client) == 1, timeout=SWEEP_SECONDS * 3)
        assert redis_client.zrange(heartbeat.KEY, 0, -1) == [heartbeat.worker_name().encode()]
    finally:
        stop.set()
        sweeper.join(timeout=10)
    assert heartbeat.alive(redis_client) == 0


@pytest.mark.timeout(90)
def test_a_helpline_worker_makes_the_line_healthy_and_logs_json(
    live_line: LiveLine, tmp_path: Path
) -> None:
    from tests.live import worker_environment

    client = create_app(live_line.settings, live_line.content).test_client()
    assert client.get("/healthz").status_code == 503
    env = worker_environment(live_line.settings, tmp_path, HELPLINE_LOG_FORMAT="json")
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        eventually(lambda: client.get("/healthz").status_code == 200, timeout=30)
        assert client.get("/healthz").json == {"redis": "ok", "workers": 1}
    finally:
        worker.stop()
    # Stopped on purpose (TERM): it took its heartbeat with it.
    assert client.get("/healthz").status_code == 503
    lines = [json.loads(line) for line in worker.log.read_text().splitlines() if line.strip()]
    assert any(line["logger"].startswith("rq.") for line in lines)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
