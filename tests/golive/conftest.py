"""Fixtures for going live: the emulator in front of a line (a recording fake,
or nothing at all: a dead service), a static web host for exported files, and
the official client pointed at the emulator as the line points it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, send_from_directory
from twilio.rest import Client
from werkzeug.wrappers import Response

from ivr.content.check import load_content
from ivr.content.model import Content
from ivr.golive.fallback_export import export
from ivr.platform.config import PROJECT_ROOT, Settings
from ivr.platform.twilio_transport import twilio_client
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, make_settings
from tests.emulator.conftest import FakeLine, serve
from twilio_emulator import EmulatorServer, Network, create_emulator

LINE_NUMBER = "+18885550100"
BACKUP_NUMBER = "+12025550177"  # not the development placeholder, which export refuses
OTHER_NUMBER = "+12025550142"
CALLER = "+12025550123"


@pytest.fixture
def fake_line() -> Iterator[FakeLine]:
    line = FakeLine()
    server, thread = serve(line.app())
    line.url = f"http://127.0.0.1:{server.server_port}"
    yield line
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL nothing listens at: the service is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _emulator(line_url: str) -> EmulatorServer:
    app = create_emulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        line_url,
        LINE_NUMBER,
        other_numbers=(OTHER_NUMBER,),
        voice_status_path="/status",
        webhook_timeout=5.0,
    )
    return EmulatorServer(app)


@pytest.fixture
def emulator(fake_line: FakeLine) -> Iterator[EmulatorServer]:
    with _emulator(fake_line.url) as server:
        yield server


@pytest.fixture
def dead_emulator(dead_url: str) -> Iterator[EmulatorServer]:
    """The emulator in front of a line that is down."""
    with _emulator(dead_url) as server:
        yield server


@pytest.fixture
def network(emulator: EmulatorServer) -> Network:
    return emulator.network


def settings_for(emulator: EmulatorServer, tmp_path: Path, **overrides: str) -> Settings:
    # No Redis is needed: the URL is never dialled.
    return make_settings(
        "redis://127.0.0.1:9/0", tmp_path, HELPLINE_TWILIO_API_URL=emulator.url, **overrides
    )


@pytest.fixture
def rest(emulator: EmulatorServer, tmp_path: Path) -> Client:
    """The official twilio client, as the line builds it."""
    return twilio_client(settings_for(emulator, tmp_path))


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(PROJECT_ROOT / "flows")


@pytest.fixture
def static_host(tmp_path: Path, content: Content) -> Iterator[str]:
    """The exported fallback files, served by a plain static web server (GET
    only, as object storage would); yields its base URL."""
    directory = tmp_path / "static" / "helpline"
    export(content, BACKUP_NUMBER, directory)
    app = Flask("static_host")

    @app.get("/helpline/<path:name>")
    def files(name: str) -> Response:
        return send_from_directory(directory, name, mimetype="text/xml")

    server, thread = serve(app)
    yield f"http://127.0.0.1:{server.server_port}/helpline/"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
