"""Secrets never reach a log line or a job: the Twilio auth token (and the
Basic credentials made from it), the secret key, operators' tokens and
passwords. The privacy scenario plays calls, texts and a callback through the
emulator (the worker's Twilio requests included), and operators log in and
use the API and the CLI meanwhile, with every logger at DEBUG."""

from __future__ import annotations

import base64
import logging

import pytest
from click.testing import CliRunner

from ivr.app import create_app
from ivr.cli.main import main
from ivr.operators.accounts import Accounts
from tests.admin.login import PASSWORD, csrf
from tests.live import LiveLine
from tests.security.test_privacy import capture_everything, play_everything


def _operators_at_work(line: LiveLine, token: str) -> None:
    """A login, a failed login, API calls and a change, as operators would."""
    client = create_app(line.settings, line.content).test_client()
    token_of_form = csrf(client)
    client.post(
        "/admin/login",
        data={"name": "sam", "secret": "not it at all!", "csrf_token": token_of_form},
    )
    client.post(
        "/admin/login", data={"name": "sam", "secret": PASSWORD, "csrf_token": token_of_form}
    )
    assert client.get("/admin/").status_code == 200
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/oncall", headers=headers).status_code == 200
    answer = client.patch("/api/v1/counselors/alex", json={"name": "Alex K."}, headers=headers)
    assert answer.status_code == 200
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token[:-2]}xx"})  # a wrong one


def test_no_secret_in_any_log_line(
    live_line: LiveLine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture_everything(caplog)
    accounts = Accounts(live_line.redis)
    accounts.set_password("sam", PASSWORD, "admin")
    play_everything(live_line)
    _, token = accounts.create_token("ops", "admin")
    _operators_at_work(live_line, token)
    settings = live_line.settings
    monkeypatch.setenv("REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("HELPLINE_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", settings.twilio_account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", settings.twilio_auth_token)
    printed = CliRunner().invoke(main, ["token", "create", "cli-made", "--role", "viewer"])
    assert printed.exit_code == 0, printed.output
    cli_token = printed.output.strip().splitlines()[0]

    basic = base64.b64encode(
        f"{settings.twilio_account_sid}:{settings.twilio_auth_token}".encode()
    ).decode()
    secrets = {
        "Twilio auth token": settings.twilio_auth_token,
        "Twilio Basic credentials": basic,
        "secret key": settings.secret_key,
        "operator token": token,
        # hl_<hex id>_<secret>: the secret may itself hold "_" (and end with one)
        "operator token's secret part": token.split("_", 2)[2],
        "token made by the CLI": cli_token,
        "operator password": PASSWORD,
    }
    assert caplog.records, "nothing was logged: the capture is not working"
    found = []
    for record in caplog.records:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info or record.exc_text:
            text += "\n" + logging.Formatter().format(record)
        found += [f"{what} in {text[:200]}" for what, value in secrets.items() if value in text]
    assert not found, "\n".join(found)
