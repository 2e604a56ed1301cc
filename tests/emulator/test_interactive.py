"""Phones played by people: through the control API (events and inputs), and
through `helpline simulate call|counselor|sms` in a terminal."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from rq import Queue
from twilio.rest import Client

from ivr.jobs import QUEUE_NAME
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.emulator.conftest import CALLER, COUNSELOR, LINE_NUMBER, FakeLine
from tests.emulator.test_queues import ACCEPT, DEQUEUE, results, setup
from tests.live import LiveLine, eventually
from twilio_emulator import EmulatorServer, Network
from twilio_emulator.console import ControlClient, PhoneConsole
from twilio_emulator.simulate_cli import simulate


def api(emulator: EmulatorServer, path: str) -> str:
    return f"{emulator.url}/_emulator{path}"


def events(emulator: EmulatorServer, number: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(
        api(emulator, f"/phones/{number}/events"), params={"after": 0}, timeout=5
    ).json()
    return answer


def send(emulator: EmulatorServer, number: str, **entry: object) -> None:
    answer = requests.post(api(emulator, f"/phones/{number}/input"), json=entry, timeout=5)
    assert answer.status_code == 202


def waiting_for(emulator: EmulatorServer, number: str, kind: str) -> dict[str, Any]:
    return eventually(  # type: ignore[no-any-return]
        lambda: (
            (page := events(emulator, number))["waiting_for"]
            and page["waiting_for"]["kind"] == kind
            and page
        )
    )


def test_a_person_answers_hears_the_whisper_accepts_and_hangs_up(
    emulator: EmulatorServer, rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line, whisper=ACCEPT, accept=DEQUEUE)
    made = requests.post(api(emulator, f"/phones/{COUNSELOR}/interactive"), json={}, timeout=5)
    assert made.json() == {"number": COUNSELOR, "interactive": True, "next": 0}
    caller = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))
    leg = rest.calls.create(to=COUNSELOR, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/whisper")

    ringing = waiting_for(emulator, COUNSELOR, "answer")
    assert ringing["waiting_for"]["from"] == LINE_NUMBER
    send(emulator, COUNSELOR, answer=True)
    page = waiting_for(emulator, COUNSELOR, "input")
    said = [e for e in page["events"] if e["kind"] == "say"]
    assert said[-1]["text"] == "Press 1 to accept."
    assert said[-1]["language"] == "en-US"
    assert all(isinstance(e["elapsed"], int | float) for e in page["events"])
    send(emulator, COUNSELOR, digits="1")
    eventually(lambda: any(e["kind"] == "bridged" for e in events(emulator, COUNSELOR)["events"]))
    send(emulator, COUNSELOR, hangup=True)
    network.wait_for_call(leg.sid)
    network.wait_for_call(caller)
    final = events(emulator, COUNSELOR)
    assert final["events"][-1]["kind"] == "ended"
    assert final["on_call"] is None
    assert results(fake_line) == ["bridged"]
    assert fake_line.at("/twiml/dialed")[0].form["DialCallStatus"] == "completed"


def test_inputs_to_a_phone_nobody_plays_are_refused(emulator: EmulatorServer) -> None:
    answer = requests.post(
        api(emulator, f"/phones/{CALLER}/input"), json={"digits": "1"}, timeout=5
    )
    assert answer.status_code == 400
    requests.post(api(emulator, f"/phones/{CALLER}/interactive"), json={}, timeout=5)
    answer = requests.post(api(emulator, f"/phones/{CALLER}/input"), json={"dance": 1}, timeout=5)
    assert answer.status_code == 400


def test_a_console_sees_a_call_that_rings_as_soon_as_the_phone_is_interactive(
    emulator: EmulatorServer, rest: Client, network: Network, fake_line: FakeLine
) -> None:
    legs: list[str] = []

    class RingsAtOnce(ControlClient):
        """The line rings the phone the moment it is interactive, before the
        console has read a single event (what `ring_when_ready` races for)."""

        def interactive(self, number: str) -> int:
            cursor = super().interactive(number)
            created = rest.calls.create(
                to=number, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/whisper"
            )
            legs.append(str(created.sid))
            waiting_for(emulator, number, "answer")
            return cursor

    shown: list[str] = []
    console = PhoneConsole(
        RingsAtOnce(emulator.url), COUNSELOR, ask=lambda _: "n", show=shown.append
    )
    console.start()
    assert console.follow() == "busy"  # it saw the ring, and the person declined
    assert any(f"ringing — a call from {LINE_NUMBER}" in line for line in shown)
    assert network.wait_for_call(legs[0]).status == "busy"


@pytest.fixture
def cli_env(tmp_path: Path, emulator: EmulatorServer) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_NUMBER": LINE_NUMBER,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
        "HELPLINE_TWILIO_API_URL": emulator.url,
    }


def test_simulate_counselor_answers_accepts_and_hangs_up(
    emulator: EmulatorServer,
    rest: Client,
    network: Network,
    fake_line: FakeLine,
    cli_env: dict[str, str],
) -> None:
    setup(fake_line, whisper=ACCEPT, accept=DEQUEUE)
    caller = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))

    def ring_when_ready() -> None:
        eventually(lambda: network.phones.interactive(COUNSELOR))
        rest.calls.create(to=COUNSELOR, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/whisper")

    ringer = threading.Thread(target=ring_when_ready)
    ringer.start()
    result = CliRunner().invoke(
        simulate, ["counselor", "--number", COUNSELOR, "--once"], input="y\n1\n\n", env=cli_env
    )
    ringer.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert "ringing" in result.output
    assert "Press 1 to accept." in result.output
    assert f"connected to {CALLER}" in result.output
    assert "call ended (completed)" in result.output
    network.wait_for_call(caller)
    assert results(fake_line) == ["bridged"]


def test_simulate_call_plays_the_caller_through_the_emulator(
    emulator: EmulatorServer, fake_line: FakeLine, cli_env: dict[str, str]
) -> None:
    fake_line.documents.update(
        voice='<Response><Gather numDigits="1" action="/twiml/chosen" timeout="5">'
        '<Say language="es-US">Marque 1.</Say></Gather></Response>',
        chosen="<Response><Say>You chose well.</Say></Response>",
    )
    result = CliRunner().invoke(simulate, ["call", "--caller", CALLER], input="1\n", env=cli_env)
    assert result.exit_code == 0, result.output
    assert "(es-US) Marque 1." in result.output
    assert "You chose well." in result.output
    assert "[00:0" in result.output
    assert fake_line.at("/twiml/chosen")[0].form["Digits"] == "1"


def test_simulate_sms_shows_the_reply_and_the_texts_that_follow(
    live_line: LiveLine, tmp_path: Path
) -> None:
    network = live_line.network
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_NUMBER": LINE_NUMBER,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
    }
    args = ["sms", "klonopin", "--from", CALLER, "--wait", "2", "--emulator"]
    outcome: list[Result] = []
    texter = threading.Thread(
        target=lambda: outcome.append(
            CliRunner().invoke(simulate, [*args, live_line.emulator_url], env=env)
        )
    )
    texter.start()
    eventually(lambda: any(m.direction == "inbound" for m in network.messages.values()))
    # The emulator records the text before the line has answered its webhook:
    # wait for the line to queue the reply, or the jobs run before there are any.
    eventually(lambda: Queue(QUEUE_NAME, connection=live_line.redis).count > 0)
    live_line.run_jobs()  # the worker sends the texts (RQ wants the main thread)
    texter.join(timeout=15)
    [result] = outcome
    assert result.exit_code == 0, result.output
    assert "you → line: klonopin" in result.output
    sent = network.sent_messages(to=CALLER)
    assert sent
    for message in sent:
        assert f"line → you: {message.body}" in result.output
