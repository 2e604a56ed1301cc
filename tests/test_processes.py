"""The line as a newcomer runs it: `helpline serve` under gunicorn, `helpline
run` with its private Redis and worker, and the terminal simulator calling in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from loadtest.ports import free_port
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, RedisServer
from tests.twilio_signing import new_call_sid
from twilio_emulator.simulate import SimulatedCall, Webhooks

HELPLINE = str(Path(sys.executable).with_name("helpline"))
CALLER = "+12025550123"


def line_environment(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPLINE_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(
        {
            "PORT": str(port),
            "HELPLINE_VAR_DIR": str(tmp_path / "var"),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HELPLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HELPLINE_WEB_PROCESSES": "1",
            **extra,
        }
    )
    return env


def wait_for_health(
    port: int, process: subprocess.Popen[bytes], *, workers: bool
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        assert process.poll() is None, "the line exited while starting"
        try:
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            last = response.json()
            # Up: Redis answers; healthy (200) only once a worker is alive too.
            if last.get("redis") == "ok" and (not workers or response.status_code == 200):
                return last
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the line did not become healthy: {last}")


def signed_incoming(port: int) -> requests.Response:
    url = f"http://127.0.0.1:{port}/voice/incoming"
    params = {
        "CallSid": new_call_sid(),
        "From": "+12025550123",
        "To": "+18885550100",
        "AccountSid": ACCOUNT_SID,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture(scope="module")
def served_line(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[int]:
    port = free_port()
    env = line_environment(tmp_path_factory.mktemp("serve"), port, REDIS_URL=redis_server.url)
    process = subprocess.Popen(
        [HELPLINE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_health(port, process, workers=False)
        yield port
    finally:
        stop(process)


def test_serve_answers_a_signed_call_with_the_greeting_and_menu(served_line: int) -> None:
    response = signed_incoming(served_line)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert "9 1 1" in response.text
    assert "<Gather" in response.text


def test_serve_refuses_an_unsigned_call(served_line: int) -> None:
    response = requests.post(
        f"http://127.0.0.1:{served_line}/voice/incoming",
        data={"CallSid": new_call_sid()},
        timeout=5,
    )
    assert response.status_code == 403


def test_the_simulator_walks_the_menu_like_a_caller(served_line: int) -> None:
    heard: list[str] = []
    replies = iter(["2", "1", "9", "no thanks, main menu", "", "q"])
    hooks = Webhooks(
        f"http://127.0.0.1:{served_line}", f"http://127.0.0.1:{served_line}", AUTH_TOKEN
    )
    call = SimulatedCall(
        hooks,
        "+12025550123",
        "+18885550100",
        ACCOUNT_SID,
        ask=lambda _prompt: next(replies),
        show=heard.append,
    )
    outcome = call.run(f"http://127.0.0.1:{served_line}/voice/incoming")
    transcript = "\n".join(heard)
    assert outcome == "hung up"
    assert "9 1 1" in transcript
    assert "clonazepam" in transcript  # pressed 2, then 1: about Klonopin
    # In English, but the offer of Spanish, said by the Spanish voice.
    assert transcript.split("clonazepam")[0].count("(es-US)") == 1
    assert "(es-US) Para español, oprima 9." in transcript


def test_make_run_is_the_whole_line_offline_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    """No credentials: a private Redis, the emulator playing Twilio, the web
    service and a worker. A caller asks for a text; the emulator receives it."""
    port, emulator_port = free_port(), free_port()
    env = line_environment(tmp_path, port, HELPLINE_EMULATOR_PORT=str(emulator_port))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name)
    process = subprocess.Popen(
        [HELPLINE, "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    socket_path = tmp_path / "var" / "redis" / "redis.sock"
    try:
        health = wait_for_health(port, process, workers=True)
        assert health["redis"] == "ok"
        assert socket_path.exists()  # the private Redis lives under var/
        token = json.loads((tmp_path / "var" / "dev-secrets.json").read_text())["auth_token"]
        base = f"http://127.0.0.1:{port}"
        sid = new_call_sid()

        def post(path: str, **extra: str) -> str:
            params = {
                "CallSid": sid,
                "From": CALLER,
                "To": "+18885550100",
                "CallStatus": "in-progress",
                **extra,
            }
            signature = RequestValidator(token).compute_signature(base + path, params)
            response = requests.post(
                base + path, data=params, timeout=5, headers={"X-Twilio-Signature": signature}
            )
            assert response.status_code == 200
            return response.text

        assert "9 1 1" in post("/voice/incoming", CallStatus="ringing")
        post("/voice/menu/main", Digits="4")
        post("/voice/menu/text_menu", Digits="1")  # text me: about Klonopin
        texts: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(texts) < 5:
            listing = requests.get(
                f"http://127.0.0.1:{emulator_port}/_emulator/messages", timeout=5
            ).json()["messages"]
            texts = [m for m in listing if m["to"] == CALLER]
            time.sleep(0.2)
        assert len(texts) == 5
        assert all(m["from"] == "+18885550100" for m in texts)
    finally:
        code = stop(process)
    output = process.stdout.read().decode() if process.stdout else ""
    assert code == 0, output
    assert "helpline simulate call" in output  # the banner says how to call
    assert "emulator" in output
    assert not socket_path.exists()  # and Ctrl-C stopped Redis too
