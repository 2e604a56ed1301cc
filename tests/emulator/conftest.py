"""Fixtures for the emulator: the emulator served for real on a free port, a
small recording web app standing in for the line (it serves test TwiML and
keeps every webhook it gets, with its signature checked), and the official
twilio client pointed at the emulator through the line's own transport."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import BaseWSGIServer, make_server

from ivr.platform.config import Settings
from ivr.platform.twilio_transport import twilio_client
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, make_settings
from twilio_emulator import EmulatorServer, Network, create_emulator

LINE_NUMBER = "+18885550100"
CALLER = "+12025550123"
COUNSELOR = "+12025550111"
WAIT = 10.0  # seconds any asynchronous effect may take before a test gives up


@dataclass
class Hook:
    path: str
    form: dict[str, str]
    signed: bool
    url: str
    signature: str


@dataclass
class FakeLine:
    """A web app in the line's place: TwiML documents by name, and a record of
    every request, each checked the way the line checks signatures."""

    # A document, or a function of the posted form that makes one.
    documents: dict[str, str | Callable[[dict[str, str]], str]] = field(default_factory=dict)
    hooks: list[Hook] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def app(self) -> Flask:
        app = Flask("fake_line")
        validator = RequestValidator(AUTH_TOKEN)

        def keep() -> None:
            signature = request.headers.get("X-Twilio-Signature", "")
            form = request.form.to_dict()
            hook = Hook(
                request.path,
                form,
                bool(validator.validate(request.url, request.form, signature)),
                request.url,
                signature,
            )
            with self.lock:
                self.hooks.append(hook)

        @app.post("/status")
        def status() -> Response:
            keep()
            return Response(status=204)

        @app.post("/sms/incoming", defaults={"name": "sms"})
        @app.post("/voice/incoming", defaults={"name": "voice"})
        @app.route("/twiml/<name>", methods=["GET", "POST"])
        def twiml(name: str) -> Response:
            keep()
            document = self.documents.get(name, "<Response/>" if name == "sms" else None)
            if document is None:
                return Response("no such document", status=404)
            if callable(document):
                document = document(request.values.to_dict())
            return Response(document, mimetype="text/xml")

        return app

    def at(self, path: str) -> list[Hook]:
        with self.lock:
            return [hook for hook in self.hooks if hook.path == path]


def serve(app: Flask) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


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
def emulator(fake_line: FakeLine) -> Iterator[EmulatorServer]:
    app = create_emulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        fake_line.url,
        LINE_NUMBER,
        voice_status_path="/status",
        webhook_timeout=5.0,
        dial_queue_wait=0.5,  # a <Dial><Queue> on an empty queue gives up quickly
    )
    with EmulatorServer(app) as server:
        yield server


@pytest.fixture
def network(emulator: EmulatorServer) -> Network:
    return emulator.network


@pytest.fixture
def rest_settings(emulator: EmulatorServer, tmp_path: Path) -> Settings:
    # The REST tests need no Redis: the URL is never dialled.
    return make_settings("redis://127.0.0.1:9/0", tmp_path, HELPLINE_TWILIO_API_URL=emulator.url)


@pytest.fixture
def rest(rest_settings: Settings) -> Client:
    """The official twilio client, as the line builds it."""
    return twilio_client(rest_settings)
