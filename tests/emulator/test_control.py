"""The `/_emulator/` JSON API: what tests in other languages, the simulator and
people use to drive phones, inject faults and look at what happened."""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.conftest import CALLER, LINE_NUMBER, FakeLine
from tests.live import eventually
from twilio_emulator import EmulatorServer
from twilio_emulator.cli import emulator as emulator_command

MENU = (
    '<Response><Gather numDigits="1" action="/twiml/done"/><Say>Nothing pressed.</Say></Response>'
)


def api(emulator: EmulatorServer, path: str) -> str:
    return f"{emulator.url}/_emulator{path}"


def test_a_scripted_inbound_call_plays_through_the_json_api(
    emulator: EmulatorServer, fake_line: FakeLine
) -> None:
    fake_line.documents.update(voice=MENU, done="<Response><Say>Thanks.</Say></Response>")
    script = {"steps": [{"press": "7"}]}
    answer = requests.post(
        api(emulator, "/calls"), json={"from": CALLER, "script": script}, timeout=5
    )
    assert answer.status_code == 201
    sid = answer.json()["sid"]
    call = eventually(
        lambda: (
            (c := requests.get(api(emulator, f"/calls/{sid}"), timeout=5).json())["status"]
            == "completed"
            and c
        )
    )
    assert call["direction"] == "inbound"
    assert [f["params"].get("Digits") for f in call["fetches"]] == [None, "7"]
    assert call["fetches"][0]["params"]["CallStatus"] == "ringing"
    assert call["heard"][-1]["text"] == "Thanks."
    assert fake_line.at("/twiml/done")[0].signed


def test_faults_set_through_the_json_api_reach_the_client(
    emulator: EmulatorServer, rest: Client
) -> None:
    added = requests.post(
        api(emulator, "/faults"), json={"resource": "messages", "code": 21610}, timeout=5
    )
    assert added.status_code == 201
    assert added.json()["faults"]["messages"][0]["code"] == 21610
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    assert raised.value.code == 21610
    assert requests.get(api(emulator, "/faults"), timeout=5).json()["faults"]["messages"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/faults", {"resource": "faxes", "code": 500}),
        ("/faults", {"resource": "calls", "delivery": 30007}),
        ("/faults", {"resource": "messages"}),
        ("/phones/+12025550123/script", {"answer": "maybe"}),
        ("/phones/+12025550123/script", {"steps": [{"dance": "1"}]}),
        ("/calls", {"script": {}}),
    ],
)
def test_malformed_control_requests_are_refused_with_a_reason(
    emulator: EmulatorServer, path: str, body: dict[str, object]
) -> None:
    answer = requests.post(api(emulator, path), json=body, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_the_log_messages_and_reset(emulator: EmulatorServer, rest: Client) -> None:
    rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hello")
    log = requests.get(api(emulator, "/log"), timeout=5).json()
    assert [(r["method"], r["status"]) for r in log["requests"]] == [("POST", 201)]
    assert log["requests"][0]["params"]["Body"] == "hello"
    messages = requests.get(api(emulator, "/messages"), timeout=5).json()["messages"]
    assert [(m["to"], m["body"]) for m in messages] == [(CALLER, "hello")]
    assert messages[0]["history"][0]["status"] == "queued"
    requests.post(api(emulator, "/phones/+12025550123/opt-out"), json={}, timeout=5)
    assert requests.post(api(emulator, "/reset"), timeout=5).json() == {"reset": True}
    assert requests.get(api(emulator, "/messages"), timeout=5).json()["messages"] == []
    assert rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="again").status == "queued"


def test_unknown_rest_paths_answer_in_twilios_json(emulator: EmulatorServer, rest: Client) -> None:
    answer = requests.get(
        f"{emulator.url}/2010-04-01/Accounts/{rest.account_sid}/Conferences.json",
        auth=(rest.username, rest.password),
        timeout=5,
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == 20404


def test_the_cli_command_describes_itself() -> None:
    result = CliRunner().invoke(emulator_command, ["--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
    assert "5100" in result.output
