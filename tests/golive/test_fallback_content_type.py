"""`helpline twilio setup --fallback-base` refuses fallback files that are not
served as XML (issue 18, item 1): Twilio refuses such TwiML with 12300, so a
caller in an outage would hear "an application error has occurred" where
the files speak the crisis numbers. Uploaded to an object store without a
type, they came back as application/octet-stream and setup said "all as set"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask, Response

from ivr.cli.main import main
from ivr.content.model import Content
from ivr.golive.fallback_export import export
from ivr.golive.twilio_setup import check_fallback
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.emulator.conftest import serve
from tests.golive.conftest import BACKUP_NUMBER, LINE_NUMBER
from twilio_emulator import EmulatorServer

ENV = {
    "HELPLINE_ENV": "development",  # the test host is http, which production refuses
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "HELPLINE_PUBLIC_URL": PUBLIC_URL,
    "HELPLINE_NUMBER": LINE_NUMBER,
    "HELPLINE_BACKUP_NUMBER": BACKUP_NUMBER,
    "REDIS_URL": "redis://127.0.0.1:9/0",  # never dialled
}


class TypedHost:
    """A static host for the exported files, each served with a chosen
    Content-Type (None: no header at all); text/xml unless told."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.types: dict[str, str | None] = {}

    def app(self) -> Flask:
        app = Flask("typed_host")

        @app.get("/helpline/<name>")
        def files(name: str) -> Response:
            path = self.directory / name
            if not path.is_file():
                return Response("not found", status=404)
            response = Response(path.read_bytes())
            kind = self.types.get(name, "text/xml")
            if kind is None:
                del response.headers["Content-Type"]
            else:
                response.headers["Content-Type"] = kind
            return response

        return app


@pytest.fixture
def host(tmp_path: Path, content: Content) -> Iterator[tuple[TypedHost, str]]:
    directory = tmp_path / "static"
    export(content, BACKUP_NUMBER, directory)
    typed = TypedHost(directory)
    server, thread = serve(typed.app())
    yield typed, f"http://127.0.0.1:{server.server_port}/helpline/"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _setup(emulator: EmulatorServer, tmp_path: Path, base: str) -> Result:
    env = {**ENV, "HELPLINE_TWILIO_API_URL": emulator.url, "HELPLINE_VAR_DIR": str(tmp_path)}
    return CliRunner().invoke(main, ["twilio", "setup", "--fallback-base", base], env=env)


def test_setup_refuses_fallback_files_served_as_octet_stream(
    emulator: EmulatorServer,
    host: tuple[TypedHost, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    typed, base = host
    for name in ("voice.xml", "voice-after.xml", "voice-goodbye.xml", "sms.xml"):
        typed.types[name] = "application/octet-stream"
    before = emulator.network.number(LINE_NUMBER).voice_fallback_url
    result = _setup(emulator, tmp_path, base)
    assert result.exit_code == 1, result.output
    assert "all as set" not in result.output
    assert f"{base}voice.xml: served with Content-Type 'application/octet-stream'" in result.output
    assert f"{base}sms.xml: served with Content-Type" in result.output
    assert "12300" in result.output
    assert "Traceback" not in result.output
    assert emulator.network.number(LINE_NUMBER).voice_fallback_url == before  # nothing changed


@pytest.mark.parametrize(
    ("name", "kind", "says"),
    [
        ("voice-goodbye.xml", None, "voice-goodbye.xml: served with Content-Type none"),
        ("voice-after.xml", "text/html; charset=utf-8", "'text/html; charset=utf-8'"),
        ("sms.xml", "text/plain", "sms.xml: served with Content-Type 'text/plain'"),
    ],
)
def test_each_file_twilio_fetches_is_checked(
    host: tuple[TypedHost, str], name: str, kind: str | None, says: str
) -> None:
    """voice-after.xml and voice-goodbye.xml are fetched too (the Dial and
    Record actions of voice.xml): a wrong type there fails mid-call."""
    typed, base = host
    typed.types[name] = kind
    problems = check_fallback(base)
    assert len(problems) == 1, problems
    assert says in problems[0]


def test_xml_with_a_charset_passes(host: tuple[TypedHost, str]) -> None:
    typed, base = host
    typed.types["voice.xml"] = "application/xml; charset=UTF-8"
    assert check_fallback(base) == []
