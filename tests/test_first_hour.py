"""The first hour's traps, held closed (issue 16): one embedded Redis per data
directory whoever starts it, a second `make run` that starts nothing, commands
that use the running line's Redis and never leave a server behind, stale
leftovers of a killed Redis, and a Ctrl-C that stops everything quietly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ivr.platform.embedded_redis import alive
from loadtest.ports import free_port
from tests.test_processes import HELPLINE, line_environment, stop, wait_for_health

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "roster.yaml"


def offline(tmp_path: Path) -> tuple[dict[str, str], int]:
    port, emulator_port = free_port(), free_port()
    env = line_environment(tmp_path, port, HELPLINE_EMULATOR_PORT=str(emulator_port))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(name)
    return env, port


def start_line(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [HELPLINE, "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HELPLINE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def redis_pid(var: Path) -> int | None:
    try:
        return int((var / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def no_server_left(var: Path) -> bool:
    pid = redis_pid(var)
    return not (var / "redis" / "redis.sock").exists() and (pid is None or not alive(pid))


def test_a_second_make_run_starts_nothing_and_ctrl_c_is_quiet(tmp_path: Path) -> None:
    env, port = offline(tmp_path)
    var = tmp_path / "var"
    first = start_line(env)
    try:
        wait_for_health(port, first, workers=True)
        pid = redis_pid(var)
        second_env, _ = offline(tmp_path)  # other ports, the same data directory
        second = subprocess.run(
            [HELPLINE, "run"], env=second_env, capture_output=True, text=True, timeout=30,
            check=False,
        )  # fmt: skip
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert f"http://127.0.0.1:{port}" in second.stderr  # where it is
        assert "Nothing was started" in second.stderr
        assert redis_pid(var) == pid  # the same server, untouched
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        # A command while the line runs uses the line's own Redis.
        imported = command(env, "roster", "import", str(EXAMPLE))
        assert imported.returncode == 0, imported.stderr
        assert json.loads((var / "redis" / "owner.json").read_text())["kind"] == "line"
        assert redis_pid(var) == pid
    finally:
        code = stop(first)
    output = first.stdout.read().decode() if first.stdout else ""
    assert code == 0, output
    # The banner: where things are, how to log in, the empty roster, the simulators.
    assert f"admin         http://127.0.0.1:{port}/admin" in output
    assert "password set NAME --role admin" in output
    assert "The roster is empty" in output
    for simulator in ("simulate call", "simulate counselor", "simulate sms"):
        assert simulator in output
    assert "Traceback" not in output
    assert "the line stopped" in output
    assert no_server_left(var)
    assert not (var / "run.json").exists()


def test_a_command_with_the_line_stopped_leaves_no_server_and_keeps_the_data(
    tmp_path: Path,
) -> None:
    env, _ = offline(tmp_path)
    var = tmp_path / "var"
    imported = command(env, "roster", "import", str(EXAMPLE))
    assert imported.returncode == 0, imported.stderr
    assert no_server_left(var)
    # The next command starts the same data again: the roster is there.
    listed = command(env, "roster", "show")
    assert listed.returncode == 0, listed.stderr
    assert "maria" in listed.stdout
    assert no_server_left(var)


def test_stale_leftovers_of_a_killed_redis_are_cleared(tmp_path: Path) -> None:
    env, port = offline(tmp_path)
    var = tmp_path / "var"
    redis_dir = var / "redis"
    redis_dir.mkdir(parents=True)
    (redis_dir / "redis.sock").write_text("")  # a socket file nobody listens on
    (redis_dir / "redis.pid").write_text("999999\n")
    (redis_dir / "owner.json").write_text(json.dumps({"kind": "line", "pid": 999999}))
    assert command(env, "roster", "import", str(EXAMPLE)).returncode == 0
    assert no_server_left(var)
    line = start_line(env)
    try:
        wait_for_health(port, line, workers=True)
    finally:
        assert stop(line) == 0
    assert no_server_left(var)


def test_a_redis_left_by_a_line_killed_outright_is_adopted(tmp_path: Path) -> None:
    env, port = offline(tmp_path)
    var = tmp_path / "var"
    first = start_line(env)
    wait_for_health(port, first, workers=True)
    orphan = redis_pid(var)
    os.killpg(first.pid, signal.SIGKILL)  # `run` alone: its parts are in their own sessions
    first.wait(timeout=10)
    assert orphan is not None
    assert alive(orphan)  # Redis outlived it (its parts were told to stop)
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except requests.RequestException:
            break  # the web service went with its parent
        if time.monotonic() > deadline:
            pytest.fail("the web service outlived `run`: the next line could not be told apart")
        time.sleep(0.2)
    second = start_line(env)
    try:
        wait_for_health(port, second, workers=True)
        assert redis_pid(var) == orphan  # adopted, not a second server on the same data
    finally:
        assert stop(second) == 0
    assert no_server_left(var)
