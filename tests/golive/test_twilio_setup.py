"""`helpline twilio setup` played against the emulator: the number ends up
pointing at the line, with connection overrides and static fallback URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from twilio.rest import Client

from ivr.cli.main import main
from ivr.golive.overrides import OVERRIDES
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.golive.conftest import BACKUP_NUMBER, LINE_NUMBER
from twilio_emulator import EmulatorServer

PRODUCTION = {
    "HELPLINE_ENV": "production",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "HELPLINE_SECRET_KEY": "test-secret-key-" + "x" * 32,
    "HELPLINE_PUBLIC_URL": PUBLIC_URL,
    "HELPLINE_NUMBER": LINE_NUMBER,
    "HELPLINE_BACKUP_NUMBER": BACKUP_NUMBER,
    "REDIS_URL": "redis://127.0.0.1:9/0",  # never dialled
}


@pytest.fixture
def run(emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return Runner(emulator, tmp_path)


class Runner:
    def __init__(self, emulator: EmulatorServer, tmp_path: Path) -> None:
        self.env = {
            **PRODUCTION,
            "HELPLINE_TWILIO_API_URL": emulator.url,
            "HELPLINE_VAR_DIR": str(tmp_path / "var"),
        }

    def __call__(self, *args: str, **env: str) -> Result:
        return CliRunner().invoke(main, list(args), env={**self.env, **env})


def _number(rest: Client) -> Any:
    return rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0]


def test_setup_points_the_number_at_the_line_and_its_static_fallback(
    run: Runner, rest: Client, static_host: str
) -> None:
    result = run(
        "twilio", "setup", "--fallback-base", static_host.replace("127.0.0.1", "localhost")
    )
    # Production refuses an http fallback (the test host is http): see below.
    assert result.exit_code == 1
    result = run("twilio", "setup", "--fallback-base", static_host, HELPLINE_ENV="development")
    assert result.exit_code == 0, result.output
    number = _number(rest)
    assert number.voice_url == f"{PUBLIC_URL}/voice/incoming#{OVERRIDES}"
    assert number.sms_url == f"{PUBLIC_URL}/sms/incoming#{OVERRIDES}"
    assert (number.voice_method, number.sms_method) == ("POST", "POST")
    assert number.status_callback == f"{PUBLIC_URL}/voice/status"
    assert number.status_callback_method == "POST"
    assert number.voice_fallback_url == static_host + "voice.xml"
    assert number.sms_fallback_url == static_host + "sms.xml"
    assert (number.voice_fallback_method, number.sms_fallback_method) == ("GET", "GET")
    assert "read back from Twilio: all as set" in result.output
    again = run("twilio", "setup", "--fallback-base", static_host, HELPLINE_ENV="development")
    assert again.exit_code == 0
    assert "nothing to change" in again.output


def test_the_overrides_fail_over_in_seconds() -> None:
    from ivr.golive import overrides as o

    assert OVERRIDES == "ct=2000&rt=3000&tt=5000&rc=1&rp=ct"
    assert o.TOTAL_TIMEOUT_MS <= 5000  # the longest a caller waits for the fallback
    assert 100 <= o.CONNECT_TIMEOUT_MS <= 10000  # Twilio's ranges
    assert 100 <= o.READ_TIMEOUT_MS <= o.TOTAL_TIMEOUT_MS <= 15000
    assert 0 <= o.RETRY_COUNT <= 5
    # Every connect try fits in the total: an unreachable host is retried, then failed over.
    assert o.CONNECT_TIMEOUT_MS * (o.RETRY_COUNT + 1) <= o.TOTAL_TIMEOUT_MS


def test_a_dry_run_shows_the_change_and_changes_nothing(
    run: Runner, rest: Client, static_host: str
) -> None:
    before = _number(rest)
    result = run(
        "twilio", "setup", "--dry-run", "--fallback-base", static_host, HELPLINE_ENV="development"
    )
    assert result.exit_code == 0, result.output
    assert f"→ {PUBLIC_URL}/voice/incoming#{OVERRIDES}" in result.output
    assert f"→ {static_host}voice.xml" in result.output
    assert "dry run: 7 setting(s) would change; nothing changed" in result.output
    assert LINE_NUMBER not in result.output
    assert "…0100" in result.output
    after = _number(rest)
    assert (after.voice_url, after.voice_fallback_url) == (
        before.voice_url,
        before.voice_fallback_url,
    )


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--fallback-base", "http://static.example.org/h/"], {}, "production needs https"),
        ([], {}, "give --fallback-base"),
        (["--fallback-base", "static.example.org"], {"HELPLINE_ENV": "development"}, "http(s) URL"),
        (
            ["--fallback-base", "https://static.example.org/h/#x"],
            {"HELPLINE_ENV": "development"},
            "no #fragment",
        ),
        (["--dry-run"], {"HELPLINE_NUMBER": "+18885550111"}, "not a number of this Twilio account"),
        (
            ["--dry-run"],
            {"TWILIO_AUTH_TOKEN": "wrong-token-" + "y" * 24},
            "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        ),
    ],
)
def test_bad_input_is_a_clear_message_not_a_traceback(
    run: Runner, args: list[str], env: dict[str, str], says: str
) -> None:
    if "give --fallback-base" not in says and "--fallback-base" not in args:
        env = {"HELPLINE_ENV": "development", **env}
    result = run("twilio", "setup", *args, **env)
    assert result.exit_code == 1
    assert says in result.output, result.output
    assert isinstance(result.exception, SystemExit)  # click's clean exit, not a crash


def test_setup_refuses_a_fallback_base_that_serves_nothing(run: Runner, static_host: str) -> None:
    result = run(
        "twilio", "setup", "--fallback-base", static_host + "missing/", HELPLINE_ENV="development"
    )
    assert result.exit_code == 1
    assert "voice.xml: HTTP 404" in result.output
    assert "--skip-fallback-check" in result.output
    skipped = run(
        "twilio",
        "setup",
        "--dry-run",
        "--skip-fallback-check",
        "--fallback-base",
        static_host + "missing/",
        HELPLINE_ENV="development",
    )
    assert skipped.exit_code == 0, skipped.output


@pytest.mark.parametrize(
    ("public_url", "why"),
    [
        (None, "needs https"),  # unset: development's http://127.0.0.1:5000
        ("https://127.0.0.1", "not reachable from Twilio"),
        ("https://10.0.0.5", "not reachable from Twilio"),
        ("https://helpline.local", "not reachable from Twilio"),
    ],
)
def test_the_real_twilio_is_never_pointed_at_http_or_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public_url: str | None, why: str
) -> None:
    """Credentials exported in a shell without HELPLINE_ENV=production: the
    settings fall back to development's, and a live number pointed at them
    would send every caller to the fallback. Refused before any request."""
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = {
        "HELPLINE_ENV": None,
        "HELPLINE_TWILIO_API_URL": None,  # the real Twilio
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_PUBLIC_URL": public_url,
        "HELPLINE_NUMBER": LINE_NUMBER,
        "HELPLINE_BACKUP_NUMBER": BACKUP_NUMBER,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
    }
    result = CliRunner().invoke(main, ["twilio", "setup", "--dry-run"], env=env)
    assert result.exit_code == 1, result.output
    assert why in result.output
    assert "Traceback" not in result.output
