"""Shared fixtures: a real Redis server for the session, a line built on it,
and a Twilio that signs its webhooks the way the real one does."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.app import create_app
from ivr.content.check import load_content
from ivr.content.model import Content
from ivr.operators import accounts as accounts_module
from ivr.platform.config import PROJECT_ROOT, Settings, load_settings
from ivr.platform.embedded_redis import start_server, wait_until_ready
from loadtest.ports import free_port
from tests.twilio_signing import TwilioSigner

pytest_plugins = ["tests.live", "tests.admin.login"]

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_URL = "https://helpline.example.org"


class RedisServer:
    """A throwaway redis-server on a free port, which a test may stop and start."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_server(
            self.directory, port=self.port, socket_name="test.sock", extra=("--appendonly", "no")
        )
        wait_until_ready(self.url, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


# scrypt at N=1024 in the test process: 4 ms a hash or a check, against 180 ms at
# the line's N=32768 (werkzeug's default, measured 2026-12-07 on 2 cores). Tests
# set four or five passwords and log in once or twice each; at the line's cost
# that was a second of setup per desk test, over a minute of the suite. The hash
# names its own cost, so a line process checks these as it checks its own.
QUICK_PASSWORD_HASH = "scrypt:1024:8:1"


@pytest.fixture(autouse=True)
def quick_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`@pytest.mark.line_password_hash` keeps the line's own cost."""
    if request.node.get_closest_marker("line_password_hash") is None:
        monkeypatch.setattr(accounts_module, "HASH_METHOD", QUICK_PASSWORD_HASH)
    # The decoy checked for unknown names is made once per process: at this test's cost.
    accounts_module._decoy_password_hash.cache_clear()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


def cli_environment(redis_url: str, tmp_path: Path) -> dict[str, str]:
    """What a `helpline` command run in the tests sees: this test's Redis and
    the test account, in development."""
    return {
        "HELPLINE_ENV": "development",
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
    }


def make_settings(redis_url: str, tmp_path: Path, **overrides: str) -> Settings:
    environ = {
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_NUMBER": "+18885550100",
        "HELPLINE_BACKUP_NUMBER": "+12025550199",
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
        **overrides,
    }
    return load_settings(environ, dotenv_path=tmp_path / "no.env")


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(PROJECT_ROOT / "flows")


@pytest.fixture
def settings(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Settings:
    return make_settings(redis_server.url, tmp_path)


@pytest.fixture
def app(settings: Settings, content: Content) -> Flask:
    return create_app(settings, content)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def twilio(client: FlaskClient) -> TwilioSigner:
    return TwilioSigner(client, PUBLIC_URL, AUTH_TOKEN)


__all__ = ["TestResponse"]
