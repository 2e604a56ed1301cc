"""The line's log lines: JSON in production, one object per line, each naming
its request and its call or text by hash, and nothing a caller said or is."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.content.model import Content
from ivr.golive.overrides import TOTAL_TIMEOUT_MS
from ivr.platform.config import ConfigError, Settings, load_settings
from ivr.platform.logs import configure_logging
from ivr.platform.privacy import sid_ref
from ivr.processes.server import gunicorn_options
from loadtest.ports import free_port
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    RedisServer,
    make_settings,
)
from tests.live import eventually
from tests.test_processes import HELPLINE, line_environment, signed_incoming, stop, wait_for_health
from tests.twilio_signing import CALLER, LINE, TwilioSigner, new_call_sid

RANDOM_ID = re.compile(r"[0-9a-f]{16}")


class Captured:
    """What the line's own handler wrote, as it would reach a log collector."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        # Every line is one whole JSON object, or json.loads fails here.
        return [json.loads(line) for line in self.text.splitlines()]

    def of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("request_id") == request_id]


def _capture(settings: Settings, log_format: str) -> Iterator[Captured]:
    captured = Captured()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(
        dataclasses.replace(settings, log_format=log_format), captured.stream
    )
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def json_log(settings: Settings) -> Iterator[Captured]:
    yield from _capture(settings, "json")


@pytest.fixture
def text_log(settings: Settings) -> Iterator[Captured]:
    yield from _capture(settings, "text")


def signed_post(
    client: FlaskClient, twilio: TwilioSigner, path: str, params: dict[str, str], **headers: str
) -> Any:
    from werkzeug.datastructures import MultiDict

    form = MultiDict(params)
    signature = twilio.sign(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature, **headers})


def call_params(sid: str) -> dict[str, str]:
    return {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "To": LINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def assert_nothing_in_clear(text: str, *secrets_: str) -> None:
    for secret in secrets_:
        assert secret not in text, f"{secret!r} logged in clear"
    assert CALLER[2:] not in text
    assert LINE[2:] not in text


def test_a_signed_call_is_logged_as_json_with_its_request_id_and_call_hash(
    client: FlaskClient, twilio: TwilioSigner, json_log: Captured
) -> None:
    sid = new_call_sid()
    response = signed_post(client, twilio, "/voice/incoming", call_params(sid))
    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]
    assert RANDOM_ID.fullmatch(request_id)
    lines = json_log.of(request_id)
    messages = [line["message"] for line in lines]
    assert f"call {sid_ref(sid)} arrived" in messages
    assert all(line["call"] == sid_ref(sid) for line in lines)
    access = [line for line in lines if line["logger"] == "helpline.access"]
    assert len(access) == 1
    assert access[0]["method"] == "POST"
    assert access[0]["path"] == "/voice/incoming"
    assert access[0]["status"] == 200
    assert isinstance(access[0]["duration_ms"], float)
    assert access[0]["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access[0]["time"])
    assert_nothing_in_clear(json_log.text, sid, AUTH_TOKEN)


def test_a_text_is_logged_by_the_hash_of_its_sid_never_its_words_or_sender(
    client: FlaskClient, twilio: TwilioSigner, json_log: Captured
) -> None:
    sid = "SM" + secrets.token_hex(16)
    words = "my private words about tapering"
    params = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CALLER,
        "To": LINE,
        "Body": words,
        "NumMedia": "0",
    }
    response = signed_post(client, twilio, "/sms/incoming", params)
    assert response.status_code == 200
    lines = json_log.of(response.headers["X-Request-Id"])
    assert lines
    assert all(line["sms"] == sid_ref(sid) for line in lines)
    assert_nothing_in_clear(json_log.text, sid, words, "tapering")


def test_the_query_string_is_never_logged(
    client: FlaskClient, twilio: TwilioSigner, json_log: Captured
) -> None:
    path = f"/voice/status?From=%2B{CALLER[1:]}&Note=private"
    params = {**call_params(new_call_sid()), "CallStatus": "completed"}
    signed_post(client, twilio, path, params)
    assert "/voice/status" in json_log.text
    assert_nothing_in_clear(json_log.text, "Note", "private")


def test_a_refused_request_is_logged_with_its_claimed_call_as_a_hash_only(
    client: FlaskClient, json_log: Captured
) -> None:
    sid = new_call_sid()
    response = client.post("/voice/incoming", data=call_params(sid))
    assert response.status_code == 403
    lines = json_log.of(response.headers["X-Request-Id"])
    assert [line["status"] for line in lines if "status" in line] == [403]
    assert all(line.get("call") == sid_ref(sid) for line in lines)
    assert_nothing_in_clear(json_log.text, sid)


def test_twilios_idempotency_token_is_the_request_id(
    client: FlaskClient, twilio: TwilioSigner, json_log: Captured
) -> None:
    token = "AC" + "0" * 32 + "-" + secrets.token_hex(12)
    response = signed_post(
        client,
        twilio,
        "/voice/incoming",
        call_params(new_call_sid()),
        **{"I-Twilio-Idempotency-Token": token, "X-Request-Id": "from-a-proxy"},
    )
    assert response.headers["X-Request-Id"] == token
    assert json_log.of(token)


def test_a_proxys_plain_request_id_is_kept(client: FlaskClient, json_log: Captured) -> None:
    given = "5f0c2a9e-7c1b-4c6d-9a51-3f1e2b7d8c90"
    response = client.get("/healthz", headers={"X-Request-Id": given})
    assert response.headers["X-Request-Id"] == given
    assert json_log.of(given)


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * 129,
        "abc\r\nSet-Cookie: session=stolen",
        "abc\ninjected",
        'abc","level":"CRITICAL',
        "abc def",
        "<script>alert(1)</script>",
        "id\x00nul",
        "",
    ],
)
def test_a_hostile_request_id_is_replaced_not_echoed(
    client: FlaskClient, json_log: Captured, hostile: str
) -> None:
    # Put in the WSGI environ as a server would pass it (the test client's own
    # header checks would refuse some of these before the app saw them).
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
    given = response.headers["X-Request-Id"]
    assert RANDOM_ID.fullmatch(given)
    assert json_log.of(given)
    if hostile:
        # Decoded, not the raw text: JSON escaping would hide a raw match.
        logged = [str(value) for line in json_log.lines() for value in line.values()]
        assert not any(hostile in value for value in logged)


FORGED = '{"level":"CRITICAL","message":"forged"}'
FORGING_PATH = "/nowhere%0A" + FORGED.replace('"', "%22")


def test_a_newline_in_the_path_cannot_forge_a_json_line(
    client: FlaskClient, json_log: Captured
) -> None:
    assert client.get(FORGING_PATH).status_code == 404
    lines = json_log.lines()  # each line still one whole JSON object
    assert lines
    assert not any(line["message"] == "forged" for line in lines)


def test_a_newline_in_the_path_cannot_forge_a_text_line(
    client: FlaskClient, text_log: Captured
) -> None:
    assert client.get(FORGING_PATH).status_code == 404
    lines = text_log.text.splitlines()
    assert any("GET /nowhere\\n{" in line for line in lines)
    assert not any(line.startswith("{") for line in lines)


def test_nothing_of_one_request_stays_on_the_next(
    client: FlaskClient, twilio: TwilioSigner, json_log: Captured
) -> None:
    signed_post(client, twilio, "/voice/incoming", call_params(new_call_sid()))
    after = client.get("/healthz")
    lines = json_log.of(after.headers["X-Request-Id"])
    assert lines
    assert not any("call" in line for line in lines)
    logging.getLogger("helpline.test").info("between requests")
    between = [line for line in json_log.lines() if line["message"] == "between requests"]
    assert between
    assert "request_id" not in between[0]


def test_an_error_is_one_json_line_with_its_traceback_and_the_caller_sees_none(
    settings: Settings, content: Content, json_log: Captured
) -> None:
    app = create_app(settings, content)

    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert b"Traceback" not in response.data
    assert b"a bug" not in response.data
    lines = json_log.of(response.headers["X-Request-Id"])
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "RuntimeError: a bug" in errors[0]["exc"]
    assert [line["status"] for line in lines if "status" in line] == [500]


def test_the_text_format_is_one_readable_line_per_record(
    client: FlaskClient, twilio: TwilioSigner, text_log: Captured
) -> None:
    sid = new_call_sid()
    response = signed_post(client, twilio, "/voice/incoming", call_params(sid))
    request_id = response.headers["X-Request-Id"]
    mine = [line for line in text_log.text.splitlines() if request_id in line]
    assert any(f"helpline.voice: call {sid_ref(sid)} arrived" in line for line in mine)
    assert any("helpline.access: POST /voice/incoming 200" in line for line in mine)
    assert all(f"call={sid_ref(sid)}" in line for line in mine)
    assert_nothing_in_clear(text_log.text, sid)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "text"),
        ({"HELPLINE_LOG_FORMAT": "json"}, "json"),
        ({"HELPLINE_ENV": "production"}, "json"),
        ({"HELPLINE_ENV": "production", "HELPLINE_LOG_FORMAT": "TEXT"}, "text"),
    ],
)
def test_the_log_format_defaults_to_json_in_production_only(
    redis_url: str, tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    assert make_settings(redis_url, tmp_path, **environ).log_format == expected


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HELPLINE_LOG_FORMAT must be json or text"):
        load_settings({"HELPLINE_LOG_FORMAT": "xml"}, dotenv_path=tmp_path / "no.env")


@pytest.fixture
def redis_url() -> str:
    return "redis://redis.internal:6379/0"  # only parsed, never reached


def test_gunicorn_gives_up_before_twilio_does(settings: Settings) -> None:
    options = gunicorn_options(settings)
    twilio_seconds = TOTAL_TIMEOUT_MS / 1000
    assert options["timeout"] < twilio_seconds
    assert options["graceful_timeout"] < twilio_seconds
    assert (
        options["max_requests"] == 0
    )  # no recycling: it empties the caches (ivr/processes/server.py)
    assert options["accesslog"] is None  # the app writes the one access log
    assert options["forwarded_allow_ips"] == ""  # ProxyFix alone believes proxies


def test_logging_configured_twice_keeps_one_handler(settings: Settings, app: Flask) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    first = configure_logging(settings, io.StringIO())
    second = configure_logging(settings, io.StringIO())
    try:
        assert first not in root.handlers
        assert root.handlers == [*before, second]
    finally:
        root.removeHandler(second)
        root.setLevel(level)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.timeout(90)
def test_helpline_serve_writes_one_json_format_and_survives_a_graceful_restart(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """gunicorn's own lines and the app's, one JSON object per line, no
    gunicorn access line; HUP replaces the worker and requests go on."""
    port = free_port()
    env = line_environment(tmp_path, port, REDIS_URL=redis_server.url, HELPLINE_LOG_FORMAT="json")
    output = tmp_path / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [HELPLINE, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_for_health(port, process, workers=False)
        assert signed_incoming(port).status_code == 200
        process.send_signal(signal.SIGHUP)
        eventually(
            lambda: sum("Booting worker" in line["message"] for line in _json_lines(output)) >= 2,
            timeout=30,
        )
        answer = requests.get(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "after-hup"}, timeout=5
        )
        assert answer.headers["X-Request-Id"] == "after-hup"
    finally:
        assert stop(process) == 0
    lines = _json_lines(output)  # fails here on any line that is not one JSON object
    loggers = {line["logger"] for line in lines}
    assert "gunicorn.error" in loggers
    assert "helpline.access" in loggers
    assert "gunicorn.access" not in loggers
    voice = [line for line in lines if line.get("path") == "/voice/incoming"]
    assert voice
    assert all(len(line["call"]) == 10 and line["request_id"] for line in voice)
    assert any(line.get("request_id") == "after-hup" for line in lines)
    assert_nothing_in_clear(output.read_text(), AUTH_TOKEN)
