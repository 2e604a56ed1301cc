"""The command line of this project, not of Flask: `helpline --help` lists
the helpline's commands only, `--version` is the helpline's version, and what
`make run` prints is plain (no colour codes, no line per emulator request)."""

from __future__ import annotations

import json
import logging
import threading
from importlib import metadata

import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from ivr.cli.main import main
from ivr.platform.logs import JsonFormatter, TextFormatter
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from twilio_emulator import EmulatorServer, create_emulator
from twilio_emulator.serve import PlainRequestHandler, request_handler

OURS = [
    "audit",
    "backup",
    "block",
    "callbacks",
    "contacts",
    "conversations",
    "crisis",
    "emulator",
    "fallback",
    "figures",
    "flows",
    "jobs",
    "now",
    "optout",
    "password",
    "restore",
    "roster",
    "run",
    "serve",
    "simulate",
    "token",
    "twilio",
    "urgent",
    "voicemail",
    "worker",
]


def test_help_lists_the_helplines_commands_and_nothing_of_flask() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:")[1].split()
    listed = [word for word in commands if word.isalpha() and word.islower()]
    assert set(OURS) <= set(listed)
    assert "shell" not in listed
    assert "routes" not in listed
    for flask_option in ("--app", "--env-file", "--debug", "Flask"):
        assert flask_option not in result.output
    assert "--version" in result.output


def test_flasks_own_commands_are_not_commands_here() -> None:
    for command in ("shell", "routes"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 2
        assert "No such command" in result.output


@pytest.mark.parametrize("args", [["--version"], ["--version", "serve"]])
def test_version_is_the_helplines_version(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output == f"helpline {metadata.version('helpline')}\n"


COLOURED = "*** Listening on \x1b[32mhelpline\x1b[39;49;00m..."  # as RQ writes it on a terminal


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("rq.worker", logging.INFO, __file__, 1, message, None, None)


def test_the_log_lines_carry_no_colour_codes() -> None:
    text = TextFormatter().format(record(COLOURED))
    assert text.endswith("INFO rq.worker: *** Listening on helpline...")
    line = json.loads(JsonFormatter().format(record(COLOURED)))
    assert line["message"] == "*** Listening on helpline..."


def test_other_control_characters_are_still_escaped() -> None:
    assert "\\x1b" in TextFormatter().format(record("bell \x07 and a lone \x1b"))


def test_the_emulator_logs_no_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    """`make run` shows the emulator's output: a simulator asks it about once
    a second, and each request was a coloured line there."""
    app = create_emulator(ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:9", "+18885550100")
    caplog.set_level(logging.INFO, logger="werkzeug")
    with EmulatorServer(app) as server:
        for _ in range(3):
            assert requests.get(f"{server.url}/_emulator/messages", timeout=5).ok
        assert requests.get(f"{server.url}/nowhere", timeout=5).status_code == 404
    assert [r for r in caplog.records if r.name == "werkzeug"] == []
    assert request_handler(False) is not PlainRequestHandler


def test_the_emulators_request_lines_when_asked_for_are_plain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_emulator(
        ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:9", "+18885550100", public_url=PUBLIC_URL
    )
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=request_handler(True))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert requests.post(f"{url}/_emulator/reset", timeout=5).ok
        assert requests.get(f"{url}/nowhere", timeout=5).status_code == 404
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("POST /_emulator/reset" in line for line in lines)
    assert any("GET /nowhere" in line and "404" in line for line in lines)
    assert not any("\x1b" in line for line in lines)
